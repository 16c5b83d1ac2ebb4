#include "ember/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ember/core/random.h"

namespace ember::data {

namespace {
Shape tail_shape(const Shape& s) {
  Shape t;
  for (size_t i = 1; i < s.size(); ++i) t.push_back(s[i]);
  return t;
}
void check_index(int64_t i, int64_t n, const char* who) {
  EMBER_CHECK(i >= 0 && i < n, IndexError, who, ": index ", i, " out of range for a dataset of size ", n);
}
// Copies one contiguous sample into row `row` of out (same dtype required).
void copy_row(const Tensor& out, int64_t row, const Tensor& sample, const char* who) {
  const int64_t per = out.numel() / std::max<int64_t>(out.size(0), 1);
  EMBER_CHECK(sample.numel() == per, ShapeError, who, ": example of shape ", sample.shape().to_string(),
              " does not fit a batch of shape ", out.shape().to_string());
  Tensor src = sample.dtype() == out.dtype() ? contiguous_data(sample) : copy_as(sample, out.dtype());
  const size_t bytes = static_cast<size_t>(per) * dtype_size(out.dtype());
  std::memcpy(static_cast<char*>(out.raw_data()) + row * bytes, src.raw_data(), bytes);
}
}  // namespace

void Dataset::get_batch(const int64_t* indices, int64_t n, const Tensor& x_out, const Tensor& y_out) const {
  for (int64_t k = 0; k < n; ++k) {
    Example e = get(indices[k]);
    copy_row(x_out, k, e.x, "Dataset::get_batch (x)");
    copy_row(y_out, k, e.y, "Dataset::get_batch (y)");
  }
}

TensorDataset::TensorDataset(Tensor x, Tensor y) {
  EMBER_CHECK(x.defined() && y.defined(), ValueError, "TensorDataset: x and y must be defined tensors");
  EMBER_CHECK(x.dim() >= 1 && y.dim() >= 1, ShapeError,
              "TensorDataset: x and y need a leading example axis, got ", x.shape().to_string(), " and ",
              y.shape().to_string());
  EMBER_CHECK(x.size(0) == y.size(0), ShapeError, "TensorDataset: x has ", x.size(0), " examples but y has ",
              y.size(0), " (shapes ", x.shape().to_string(), " and ", y.shape().to_string(), ")");
  x_ = contiguous_data(x);
  y_ = contiguous_data(y);
  n_ = x.size(0);
}

Example TensorDataset::get(int64_t i) const {
  check_index(i, n_, "TensorDataset::get");
  auto row = [i](const Tensor& t) {
    Shape s = tail_shape(t.shape());
    Shape strides = tail_shape(t.strides());
    return as_strided(t, s, strides, t.offset() + i * (t.numel() / t.size(0)));
  };
  return {row(x_), row(y_)};
}

void TensorDataset::get_batch(const int64_t* indices, int64_t n, const Tensor& x_out,
                              const Tensor& y_out) const {
  auto gather = [&](const Tensor& src, const Tensor& out, const char* what) {
    EMBER_CHECK(out.dtype() == src.dtype() && out.numel() == n * (src.numel() / std::max<int64_t>(n_, 1)),
                ShapeError, "TensorDataset::get_batch: ", what, " buffer ", out.shape().to_string(), " ",
                dtype_name(out.dtype()), " does not hold ", n, " rows of ", src.shape().to_string(), " ",
                dtype_name(src.dtype()));
    const size_t bytes =
        static_cast<size_t>(src.numel() / std::max<int64_t>(n_, 1)) * dtype_size(src.dtype());
    const char* s = static_cast<const char*>(src.raw_data());
    char* d = static_cast<char*>(out.raw_data());
    for (int64_t k = 0; k < n; ++k) {
      check_index(indices[k], n_, "TensorDataset::get_batch");
      std::memcpy(d + k * bytes, s + indices[k] * bytes, bytes);
    }
  };
  gather(x_, x_out, "x");
  gather(y_, y_out, "y");
}

TransformDataset::TransformDataset(DatasetPtr base, std::function<Example(Example)> fn)
    : base_(std::move(base)), fn_(std::move(fn)) {
  EMBER_CHECK(base_ && fn_, ValueError, "TransformDataset: base dataset and function must be set");
}

Example TransformDataset::get(int64_t i) const {
  return fn_(base_->get(i));
}

Subset::Subset(DatasetPtr base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  EMBER_CHECK(base_, ValueError, "Subset: base dataset is null");
  const int64_t n = base_->size();
  for (int64_t i : indices_) {
    EMBER_CHECK(i >= 0 && i < n, IndexError, "Subset: index ", i, " out of range for a dataset of size ", n);
  }
}

Example Subset::get(int64_t i) const {
  check_index(i, size(), "Subset::get");
  return base_->get(indices_[i]);
}

void Subset::get_batch(const int64_t* indices, int64_t n, const Tensor& x_out, const Tensor& y_out) const {
  // Map through our indices in a small stack buffer chunk by chunk (no allocation per batch).
  constexpr int64_t kChunk = 256;
  int64_t mapped[kChunk];
  for (int64_t lo = 0; lo < n; lo += kChunk) {
    const int64_t m = std::min(kChunk, n - lo);
    for (int64_t k = 0; k < m; ++k) {
      check_index(indices[lo + k], size(), "Subset::get_batch");
      mapped[k] = indices_[indices[lo + k]];
    }
    auto rows = [&](const Tensor& t) {
      Shape s = t.shape();
      s[0] = m;
      return as_strided(t, s, t.strides(), t.offset() + lo * (t.numel() / std::max<int64_t>(t.size(0), 1)));
    };
    base_->get_batch(mapped, m, rows(x_out), rows(y_out));
  }
}

ConcatDataset::ConcatDataset(std::vector<DatasetPtr> parts) : parts_(std::move(parts)) {
  EMBER_CHECK(!parts_.empty(), ValueError, "ConcatDataset: no parts");
  offsets_.push_back(0);
  Example first;
  for (size_t k = 0; k < parts_.size(); ++k) {
    EMBER_CHECK(parts_[k], ValueError, "ConcatDataset: part ", k, " is null");
    if (parts_[k]->size() > 0) {
      Example e = parts_[k]->get(0);
      if (!first.x.defined()) {
        first = e;
      } else {
        EMBER_CHECK(e.x.shape() == first.x.shape() && e.y.shape() == first.y.shape() &&
                        e.x.dtype() == first.x.dtype() && e.y.dtype() == first.y.dtype(),
                    ShapeError, "ConcatDataset: part ", k, " has examples x ", e.x.shape().to_string(), " y ",
                    e.y.shape().to_string(), " but part 0 has x ", first.x.shape().to_string(), " y ",
                    first.y.shape().to_string());
      }
    }
    offsets_.push_back(offsets_.back() + parts_[k]->size());
  }
}

Example ConcatDataset::get(int64_t i) const {
  check_index(i, size(), "ConcatDataset::get");
  auto it = std::upper_bound(offsets_.begin(), offsets_.end(), i);
  const size_t k = static_cast<size_t>(it - offsets_.begin()) - 1;
  return parts_[k]->get(i - offsets_[k]);
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator g(seed);
  // Fisher-Yates from the end.
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.randint(0, i + 1)]);
  return p;
}

std::pair<std::shared_ptr<Subset>, std::shared_ptr<Subset>> train_val_split(DatasetPtr base,
                                                                            double val_fraction,
                                                                            uint64_t seed) {
  EMBER_CHECK(base, ValueError, "train_val_split: dataset is null");
  EMBER_CHECK(val_fraction >= 0.0 && val_fraction <= 1.0, ValueError,
              "train_val_split: val_fraction must be in [0, 1], got ", val_fraction);
  const int64_t n = base->size();
  const int64_t n_val = static_cast<int64_t>(std::llround(val_fraction * static_cast<double>(n)));
  std::vector<int64_t> p = seeded_permutation(n, seed);
  std::vector<int64_t> val(p.begin(), p.begin() + n_val), train(p.begin() + n_val, p.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {std::make_shared<Subset>(base, std::move(train)), std::make_shared<Subset>(base, std::move(val))};
}

}  // namespace ember::data
