// Loss functions: each is one fused op (forward and hand-written backward side by side in src/ops/loss.cpp)
// with PyTorch 1.13's semantics, plus two Keras-style helpers. Inputs are batch-first; for cross_entropy and
// nll_loss the class axis is 1 (N, C) or (N, C, d1, ...), or 0 for an unbatched (C,) input.
//
//   Tensor logits = model->forward(x);                          // (N, C)
//   Tensor loss = ember::cross_entropy(logits, labels);         // labels: int64 (N,), mean over the batch
//   loss = ember::cross_entropy(logits, labels, ember::CrossEntropyOptions().label_smoothing(0.1).weight(w));
//   loss.backward();
//
// Gradients flow to the predictions and to floating targets (like PyTorch); class weights and pos_weight are
// constants (no gradient). Errors: a target whose shape does not fit -> ShapeError (naming the loss and both
// shapes); a class index outside [0, C) that is not ignore_index -> IndexError; a target of the wrong dtype
// -> DTypeError.
#pragma once

#include <cstdint>

#include "ember/core/tensor.h"

namespace ember {

enum class Reduction { None, Mean, Sum };

// (pred - target)^2, same shapes.
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean);

struct CrossEntropyOptions {
  CrossEntropyOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  // Per-class weights, shape (C,), same dtype as the logits.
  CrossEntropyOptions& weight(const Tensor& w) {
    weight_ = w;
    return *this;
  }
  // Targets equal to this index contribute nothing (class-index targets only).
  CrossEntropyOptions& ignore_index(int64_t i) {
    ignore_index_ = i;
    return *this;
  }
  // In [0, 1]: the target becomes (1 - s) * target + s / C.
  CrossEntropyOptions& label_smoothing(double s) {
    label_smoothing_ = s;
    return *this;
  }
  Reduction reduction() const { return reduction_; }
  const Tensor& weight() const { return weight_; }
  int64_t ignore_index() const { return ignore_index_; }
  double label_smoothing() const { return label_smoothing_; }

 private:
  Reduction reduction_ = Reduction::Mean;
  Tensor weight_;
  int64_t ignore_index_ = -100;
  double label_smoothing_ = 0.0;
};

// Fused, numerically stable log-softmax + negative log-likelihood over axis 1
// (torch.nn.functional.cross_entropy). target: int64 class indices of shape (N, d1, ...), or floating class
// probabilities of the logits' shape. Mean with class indices divides by the summed weights of the
// non-ignored targets; with probabilities, by the number of positions N * d1 * ....
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});

// -weight[t] * log_probs[n, t, ...] (torch.nn.functional.nll_loss); Mean divides by the summed weights.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);

// -weight * (t * log(p) + (1 - t) * log(1 - p)), each log clamped at -100 like PyTorch. weight broadcasts to
// p.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);

// -weight * (pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))), computed in the stable form
// weight * ((1 - t) * x + (1 + (pos_weight - 1) * t) * softplus(-x)). weight and pos_weight broadcast to x.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const Tensor& weight = Tensor(), const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);

// Keras' categorical_crossentropy with the class axis last: y_true (..., C) one-hot/probabilities, y_pred
// (..., C). from_logits: -sum(y_true * log_softmax(y_pred)). Otherwise (Keras' backend formula) y_pred is
// renormalised to sum 1 per row, then clipped to [1e-7, 1 - 1e-7], and the loss is -sum(y_true * log(.)).
// Reduction::None gives the per-sample losses (shape (...)), Mean is Keras' default sum-over-batch-size.
// No gradient flows to y_true.
Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits = false,
                                Reduction reduction = Reduction::Mean);

// Keras' sparse_categorical_crossentropy: y_true int64 (...) or (..., 1), y_pred (..., C). from_logits:
// cross-entropy of the softmax. Otherwise (Keras' formula) y_pred is clipped to [1e-7, 1 - 1e-7] first and
// then renormalised (log, then softmax cross-entropy): -log(clip(p)[t] / sum(clip(p))).
Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits = false,
                                       Reduction reduction = Reduction::Mean);

}  // namespace ember
