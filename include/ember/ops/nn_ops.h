// Fused ops behind the basic nn layers: linear (y = x W^T + b in one GEMM with the bias fused, one backward
// giving dx, dW and db) and inverted dropout (mask drawn from an ember::Generator, saved as bytes).
//
//   auto w = ember::randn({2, 4}).requires_grad_();   // (out_features, in_features), like PyTorch
//   auto b = ember::zeros({2}).requires_grad_();
//   auto y = ember::linear(x, w, b);                  // x (..., 4) -> y (..., 2)
//   auto d = ember::dropout(y, 0.5, /*training=*/true);
#pragma once

#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember {

// y = x W^T + b over any leading dimensions of x. weight is (out, in); bias (out,) or undefined for none.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// relu(linear(x, weight, bias)); without gradient recording (NoGradGuard, or no operand requiring a gradient)
// the relu is fused into the product's output. A batch-1 input runs as a matrix-vector product.
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// Inverted dropout: in training, each element is zeroed with probability p and the rest are scaled by
// 1/(1-p), so evaluation needs no rescaling. Not training (or p == 0): the input is passed through. The mask
// is drawn from `gen` (the global generator when null).
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

}  // namespace ember
