// Metrics: streaming accumulators updated once per batch with the model's outputs and the targets, read at
// the end of an epoch. They read the raw buffers (no graph, no allocation per update).
//
//   ember::train::Accuracy acc;                       // sparse labels, one-hot targets or binary: auto
//   acc.update(logits, labels);  acc.result();        // fraction correct so far
//   auto m = ember::train::make_metric("accuracy");   // by Keras name
//   ember::train::ConfusionMatrix cm(10);  cm.update(logits, labels);  cm.matrix();
//
// Conventions: outputs (N, C) scores (logits or probabilities: argmax is the same) or (N,)/(N, 1) for a
// binary problem; targets int64 class indices (N,), one-hot/probabilities (N, C), or 0/1 values (N,)/(N, 1).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::train {

class Metric {
 public:
  virtual ~Metric() = default;
  // The name used in logs and History ("accuracy", "precision", ...).
  virtual std::string name() const = 0;
  virtual void reset() = 0;
  virtual void update(const Tensor& output, const Tensor& target) = 0;
  virtual double result() const = 0;
};
using MetricPtr = std::shared_ptr<Metric>;

enum class AccuracyKind {
  Auto,         // from the shapes: target rank one less than output -> Sparse; same shape with C > 1 ->
                // Categorical; otherwise Binary
  Sparse,       // argmax(output) == target index
  Categorical,  // argmax(output) == argmax(target)
  Binary        // (score > threshold) == (target > 0.5)
};

class Accuracy : public Metric {
 public:
  // from_logits (binary only): the threshold applies to sigmoid(output).
  explicit Accuracy(AccuracyKind kind = AccuracyKind::Auto, double threshold = 0.5, bool from_logits = false,
                    std::string name = "accuracy");
  std::string name() const override { return name_; }
  void reset() override { correct_ = total_ = 0; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override { return total_ ? static_cast<double>(correct_) / total_ : 0.0; }

 private:
  AccuracyKind kind_;
  double threshold_;
  std::string name_;
  int64_t correct_ = 0, total_ = 0;
};

// The target's class (index or argmax of a one-hot row) is among the k highest scores.
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(int64_t k = 5, std::string name = "");
  std::string name() const override { return name_; }
  void reset() override { correct_ = total_ = 0; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override { return total_ ? static_cast<double>(correct_) / total_ : 0.0; }

 private:
  int64_t k_;
  std::string name_;
  int64_t correct_ = 0, total_ = 0;
};

// Weighted mean of values given with add(value, weight) (the epoch loss: weight = batch size). update() is
// not used.
class Mean : public Metric {
 public:
  explicit Mean(std::string name = "loss") : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void reset() override { sum_ = weight_ = 0; }
  void update(const Tensor&, const Tensor&) override {}
  void add(double value, double weight = 1.0) {
    sum_ += value * weight;
    weight_ += weight;
  }
  double result() const override { return weight_ > 0 ? sum_ / weight_ : 0.0; }

 private:
  std::string name_;
  double sum_ = 0, weight_ = 0;
};

// Binary precision / recall / F1: positive prediction = score > threshold (on sigmoid(score) when
// from_logits); positive target = target > 0.5. For (N, 2) outputs the positive class is argmax == 1.
class BinaryConfusion : public Metric {
 public:
  enum class Kind { Precision, Recall, F1 };
  BinaryConfusion(Kind kind, double threshold = 0.5, bool from_logits = false);
  std::string name() const override;
  void reset() override { tp_ = fp_ = fn_ = tn_ = 0; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  int64_t tp() const { return tp_; }
  int64_t fp() const { return fp_; }
  int64_t fn() const { return fn_; }
  int64_t tn() const { return tn_; }

 private:
  Kind kind_;
  double threshold_;
  int64_t tp_ = 0, fp_ = 0, fn_ = 0, tn_ = 0;
};
inline MetricPtr Precision(double threshold = 0.5, bool from_logits = false) {
  return std::make_shared<BinaryConfusion>(BinaryConfusion::Kind::Precision, threshold, from_logits);
}
inline MetricPtr Recall(double threshold = 0.5, bool from_logits = false) {
  return std::make_shared<BinaryConfusion>(BinaryConfusion::Kind::Recall, threshold, from_logits);
}
inline MetricPtr F1Score(double threshold = 0.5, bool from_logits = false) {
  return std::make_shared<BinaryConfusion>(BinaryConfusion::Kind::F1, threshold, from_logits);
}

// counts[true][predicted] over num_classes classes (predicted = argmax of the output row). result() is the
// accuracy (trace / total).
class ConfusionMatrix : public Metric {
 public:
  explicit ConfusionMatrix(int64_t num_classes);
  std::string name() const override { return "confusion_accuracy"; }
  void reset() override;
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  int64_t num_classes() const { return n_; }
  int64_t count(int64_t truth, int64_t predicted) const { return counts_.at(truth * n_ + predicted); }
  // (num_classes, num_classes) int64 tensor.
  Tensor matrix() const;
  // Rows = true class, columns = predicted class, with optional class names.
  std::string to_string(const std::vector<std::string>& class_names = {}) const;

 private:
  int64_t n_;
  std::vector<int64_t> counts_;
};

// Keras names: "accuracy"/"acc" (kind chosen from the loss like Keras: sparse_categorical_crossentropy ->
// Sparse, categorical_crossentropy -> Categorical, binary_crossentropy -> Binary, else Auto),
// "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "top_k_categorical_accuracy" /
// "sparse_top_k_categorical_accuracy" (k = 5), "top<k>_accuracy" (e.g. "top3_accuracy"), "precision",
// "recall", "f1". from_logits applies to the thresholded binary metrics. Unknown name -> ValueError.
MetricPtr make_metric(const std::string& name, const std::string& loss_name = "", bool from_logits = false);

}  // namespace ember::train
