// Fused ops behind the basic nn layers: linear (y = x W^T + b in one GEMM with the bias fused, one backward
// giving dx, dW and db) and inverted dropout (mask drawn from an ember::Generator, saved as bytes).
//
//   auto w = ember::randn({2, 4}).requires_grad_();   // (out_features, in_features), like PyTorch
//   auto b = ember::zeros({2}).requires_grad_();
//   auto y = ember::linear(x, w, b);                  // x (..., 4) -> y (..., 2)
//   auto d = ember::dropout(y, 0.5, /*training=*/true);
#pragma once

#include <memory>
#include <mutex>

#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember {

// A transposed copy of one float32 weight for batch-1 inference (kernels::gemv_transposed_skip_zeros: the
// rows of zero inputs are skipped, about half of the weight for pixels or ReLU outputs). nn::Linear owns one;
// linear / linear_relu given one use it for one input row without gradient recording, for weights of 8k to
// 2M elements (below, gemv is faster: the weight is small; above, gemv splits over the threads). The copy
// belongs to one (storage, version, data pointer, shape, strides) of the weight: it is built on the second
// call that sees the same weight unchanged (a weight updated every step costs no copies) and dropped when any
// of these changes. In-place writes through Ember (optimizers, copy_into, fill_, set, load_state_dict, init)
// bump the storage's version; code writing through data<T>() must call bump_version(), as autograd also
// requires. A weight with inf or NaN never uses the copy (0 * inf). Thread-safe (one mutex, held for the
// lookup and the one-off build).
class LinearWeightCache {
 public:
  struct Packed;
  LinearWeightCache();
  ~LinearWeightCache();
  LinearWeightCache(const LinearWeightCache&) = delete;
  LinearWeightCache& operator=(const LinearWeightCache&) = delete;
  // The transposed copy for `weight` (2-D float32, row-major with row stride ld), or null when there is none
  // (yet) or it cannot be used.
  std::shared_ptr<const Packed> get(const Tensor& weight, int64_t ld);

 private:
  std::mutex mu_;
  std::shared_ptr<const Packed> packed_;
};

// y = x W^T + b over any leading dimensions of x. weight is (out, in); bias (out,) or undefined for none.
// `cache` (may be null) speeds up repeated batch-1 inference with the same weight (see LinearWeightCache).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              LinearWeightCache* cache = nullptr);

// relu(linear(x, weight, bias)); without gradient recording (NoGradGuard, or no operand requiring a gradient)
// the relu is fused into the product's output. A batch-1 input runs as a matrix-vector product.
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                   LinearWeightCache* cache = nullptr);

// Inverted dropout: in training, each element is zeroed with probability p and the rest are scaled by
// 1/(1-p), so evaluation needs no rescaling. Not training (or p == 0): the input is passed through. The mask
// is drawn from `gen` (the global generator when null).
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

}  // namespace ember
