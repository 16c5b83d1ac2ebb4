#include "ember/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "ember/core/error.h"

namespace ember::train {
namespace {

// Element i (row-major) of a contiguous tensor of any dtype, as double. Metrics only ever read.
struct Reader {
  explicit Reader(const Tensor& t) : t_(contiguous_data(t)), dtype_(t_.dtype()), p_(t_.raw_data()) {}
  double operator[](int64_t i) const {
    switch (dtype_) {
      case DType::Float32:
        return static_cast<const float*>(p_)[i];
      case DType::Float64:
        return static_cast<const double*>(p_)[i];
      case DType::Int64:
        return static_cast<double>(static_cast<const int64_t*>(p_)[i]);
      case DType::Bool:
        return static_cast<const bool*>(p_)[i] ? 1.0 : 0.0;
    }
    return 0.0;
  }
  Tensor t_;
  DType dtype_;
  const void* p_;
};

int64_t argmax_row(const Reader& r, int64_t row, int64_t c) {
  int64_t best = 0;
  double bv = r[row * c];
  for (int64_t j = 1; j < c; ++j) {
    double v = r[row * c + j];
    if (v > bv) bv = v, best = j;
  }
  return best;
}

// Rows and classes of an output: (N, C) or (N, ..., C); 1-D outputs are N rows of one score.
void rows_classes(const Tensor& out, int64_t& n, int64_t& c) {
  c = out.dim() >= 2 ? out.size(-1) : 1;
  n = c > 0 ? out.numel() / c : 0;
}

}  // namespace

Accuracy::Accuracy(AccuracyKind kind, double threshold, bool from_logits, std::string name)
    : kind_(kind), threshold_(threshold), name_(std::move(name)) {
  // A threshold on sigmoid(x) equals one on x at logit(threshold).
  if (from_logits) threshold_ = std::log(threshold / (1.0 - threshold));
}

void Accuracy::update(const Tensor& output, const Tensor& target) {
  int64_t n, c;
  rows_classes(output, n, c);
  AccuracyKind kind = kind_;
  if (kind == AccuracyKind::Auto) {
    if (target.numel() == n && c > 1)
      kind = AccuracyKind::Sparse;
    else if (target.numel() == output.numel() && c > 1)
      kind = AccuracyKind::Categorical;
    else
      kind = AccuracyKind::Binary;
  }
  Reader o(output), t(target);
  switch (kind) {
    case AccuracyKind::Sparse:
      EMBER_CHECK(target.numel() == n, ShapeError, name_, ": sparse targets need ", n, " labels for output ",
                  output.shape(), ", got ", target.shape());
      for (int64_t i = 0; i < n; ++i) correct_ += argmax_row(o, i, c) == static_cast<int64_t>(t[i]);
      break;
    case AccuracyKind::Categorical:
      EMBER_CHECK(target.numel() == output.numel(), ShapeError, name_,
                  ": categorical targets must match output ", output.shape(), ", got ", target.shape());
      for (int64_t i = 0; i < n; ++i) correct_ += argmax_row(o, i, c) == argmax_row(t, i, c);
      break;
    default:
      EMBER_CHECK(target.numel() == output.numel(), ShapeError, name_, ": binary targets must match output ",
                  output.shape(), ", got ", target.shape());
      n = output.numel();
      for (int64_t i = 0; i < n; ++i) correct_ += (o[i] > threshold_) == (t[i] > 0.5);
  }
  total_ += n;
}

TopKAccuracy::TopKAccuracy(int64_t k, std::string name) : k_(k), name_(std::move(name)) {
  EMBER_CHECK(k >= 1, ValueError, "TopKAccuracy: k must be >= 1, got ", k);
  if (name_.empty()) name_ = "top" + std::to_string(k) + "_accuracy";
}

void TopKAccuracy::update(const Tensor& output, const Tensor& target) {
  int64_t n, c;
  rows_classes(output, n, c);
  bool sparse = target.numel() == n;
  EMBER_CHECK(sparse || target.numel() == output.numel(), ShapeError, name_, ": targets ", target.shape(),
              " do not fit output ", output.shape());
  Reader o(output), t(target);
  for (int64_t i = 0; i < n; ++i) {
    int64_t cls = sparse ? static_cast<int64_t>(t[i]) : argmax_row(t, i, c);
    double v = o[i * c + cls];
    // Rank of the true class: the number of scores strictly above it (ties count in its favour, like Keras).
    int64_t above = 0;
    for (int64_t j = 0; j < c; ++j) above += o[i * c + j] > v;
    correct_ += above < k_;
  }
  total_ += n;
}

BinaryConfusion::BinaryConfusion(Kind kind, double threshold, bool from_logits)
    : kind_(kind), threshold_(from_logits ? std::log(threshold / (1.0 - threshold)) : threshold) {}

std::string BinaryConfusion::name() const {
  switch (kind_) {
    case Kind::Precision:
      return "precision";
    case Kind::Recall:
      return "recall";
    default:
      return "f1";
  }
}

void BinaryConfusion::update(const Tensor& output, const Tensor& target) {
  int64_t n, c;
  rows_classes(output, n, c);
  Reader o(output), t(target);
  if (c == 2 && target.numel() == n) {
    for (int64_t i = 0; i < n; ++i) {
      bool p = argmax_row(o, i, 2) == 1, y = t[i] > 0.5;
      tp_ += p && y, fp_ += p && !y, fn_ += !p && y, tn_ += !p && !y;
    }
    return;
  }
  EMBER_CHECK(target.numel() == output.numel(), ShapeError, name(), ": binary targets must match output ",
              output.shape(), ", got ", target.shape());
  for (int64_t i = 0; i < output.numel(); ++i) {
    bool p = o[i] > threshold_, y = t[i] > 0.5;
    tp_ += p && y, fp_ += p && !y, fn_ += !p && y, tn_ += !p && !y;
  }
}

double BinaryConfusion::result() const {
  double precision = tp_ + fp_ ? static_cast<double>(tp_) / (tp_ + fp_) : 0.0;
  double recall = tp_ + fn_ ? static_cast<double>(tp_) / (tp_ + fn_) : 0.0;
  switch (kind_) {
    case Kind::Precision:
      return precision;
    case Kind::Recall:
      return recall;
    default:
      return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
  }
}

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : n_(num_classes) {
  EMBER_CHECK(num_classes >= 2, ValueError, "ConfusionMatrix: need at least 2 classes, got ", num_classes);
  counts_.assign(n_ * n_, 0);
}

void ConfusionMatrix::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
}

void ConfusionMatrix::update(const Tensor& output, const Tensor& target) {
  int64_t n, c;
  rows_classes(output, n, c);
  EMBER_CHECK(c == n_, ShapeError, "ConfusionMatrix: output ", output.shape(), " does not have ", n_,
              " classes");
  bool sparse = target.numel() == n;
  EMBER_CHECK(sparse || target.numel() == output.numel(), ShapeError, "ConfusionMatrix: targets ",
              target.shape(), " do not fit output ", output.shape());
  Reader o(output), t(target);
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = sparse ? static_cast<int64_t>(t[i]) : argmax_row(t, i, c);
    EMBER_CHECK(y >= 0 && y < n_, IndexError, "ConfusionMatrix: label ", y, " outside [0, ", n_, ")");
    ++counts_[y * n_ + argmax_row(o, i, c)];
  }
}

double ConfusionMatrix::result() const {
  int64_t total = 0, diag = 0;
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = 0; j < n_; ++j) total += counts_[i * n_ + j], diag += i == j ? counts_[i * n_ + j] : 0;
  return total ? static_cast<double>(diag) / total : 0.0;
}

Tensor ConfusionMatrix::matrix() const {
  return from_vector(counts_, Shape{n_, n_});
}

std::string ConfusionMatrix::to_string(const std::vector<std::string>& class_names) const {
  auto label = [&](int64_t i) {
    return i < static_cast<int64_t>(class_names.size()) ? class_names[i] : std::to_string(i);
  };
  size_t w = 6;
  for (int64_t i = 0; i < n_; ++i) w = std::max(w, label(i).size() + 1);
  for (int64_t v : counts_) w = std::max(w, std::to_string(v).size() + 1);
  std::ostringstream os;
  auto pad = [&](const std::string& s) { os << std::string(w - std::min(w, s.size()), ' ') << s; };
  pad("true\\pred");
  for (int64_t j = 0; j < n_; ++j) pad(label(j));
  os << "\n";
  for (int64_t i = 0; i < n_; ++i) {
    pad(label(i));
    for (int64_t j = 0; j < n_; ++j) pad(std::to_string(counts_[i * n_ + j]));
    os << "\n";
  }
  return os.str();
}

MetricPtr make_metric(const std::string& name, const std::string& loss_name, bool from_logits) {
  if (name == "accuracy" || name == "acc") {
    AccuracyKind kind = AccuracyKind::Auto;
    if (loss_name == "sparse_categorical_crossentropy") kind = AccuracyKind::Sparse;
    if (loss_name == "categorical_crossentropy") kind = AccuracyKind::Categorical;
    if (loss_name == "binary_crossentropy") kind = AccuracyKind::Binary;
    return std::make_shared<Accuracy>(kind, 0.5, from_logits, "accuracy");
  }
  if (name == "sparse_categorical_accuracy")
    return std::make_shared<Accuracy>(AccuracyKind::Sparse, 0.5, false, name);
  if (name == "categorical_accuracy")
    return std::make_shared<Accuracy>(AccuracyKind::Categorical, 0.5, false, name);
  if (name == "binary_accuracy")
    return std::make_shared<Accuracy>(AccuracyKind::Binary, 0.5, from_logits, name);
  if (name == "top_k_categorical_accuracy" || name == "sparse_top_k_categorical_accuracy")
    return std::make_shared<TopKAccuracy>(5, name);
  if (name.size() > 12 && name.rfind("top", 0) == 0 && name.substr(name.size() - 9) == "_accuracy") {
    std::string k = name.substr(3, name.size() - 12);
    if (!k.empty() && std::all_of(k.begin(), k.end(), ::isdigit))
      return std::make_shared<TopKAccuracy>(std::stoll(k), name);
  }
  if (name == "precision") return Precision(0.5, from_logits);
  if (name == "recall") return Recall(0.5, from_logits);
  if (name == "f1" || name == "f1_score") return F1Score(0.5, from_logits);
  throw ValueError("metrics: unknown metric '" + name +
                   "' (known: accuracy, sparse_categorical_accuracy, categorical_accuracy, binary_accuracy, "
                   "top_k_categorical_accuracy, top<k>_accuracy, precision, recall, f1)");
}

}  // namespace ember::train
