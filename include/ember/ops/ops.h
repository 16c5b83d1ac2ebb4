// Differentiable tensor operations. Each op computes its result with the kernels layer and, when recording is
// on and an input requires a gradient, records a node whose backward sits next to the forward in
// src/ops/<family>.cpp. Shapes broadcast like NumPy/PyTorch; axes may be negative.
//
//   auto w = ember::randn({784, 10}).requires_grad_();
//   auto logits = ember::matmul(x, w) + b;
//   auto loss = ember::mean(ember::sum(ember::pow(logits - y, 2.0), {1}));
//   loss.backward();   // w.grad() now holds d loss / d w
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ember/autograd/grad_mode.h"
#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember {

using Axes = std::vector<int64_t>;

// ---- elementwise arithmetic (broadcasting; both operands of one floating dtype) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rsub(double a, const Tensor& b);  // a - b
Tensor rdiv(double a, const Tensor& b);  // a / b
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor pow(const Tensor& x, const Tensor& exponent);  // x > 0 where exponent needs a gradient
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor square(const Tensor& x);
// Limits values to [min, max] (either bound may be absent); the gradient passes where the value was inside.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---- activations ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// Numerically stable (max subtracted) along `axis`.
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// approximate: "none" (erf, PyTorch's default) or "tanh".
Tensor gelu(const Tensor& x, const std::string& approximate = "none");

// ---- linear algebra ----
// 1-D/2-D/batched matrix product with broadcasting of the batch dimensions, like torch.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- reductions (keepdim keeps reduced axes with size 1; an empty axis list means all axes) ----
Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
// Maximum over one axis; the gradient goes to the (first) argmax.
Tensor max(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor min(const Tensor& x, int64_t axis, bool keepdim = false);
// Maximum / minimum over all elements.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// Variance; unbiased (divide by n-1) by default like torch.var.
Tensor var(const Tensor& x, const Axes& axes = {}, bool unbiased = true, bool keepdim = false);
// Index of the maximum / minimum along `axis` (int64, no gradient).
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t axis, bool keepdim = false);

// ---- views and shape ops (views share storage with their input) ----
// One dimension may be -1 (inferred). A copy is made only when the strides make a view impossible.
Tensor reshape(const Tensor& x, const Shape& shape);
// Like reshape, but throws ShapeError instead of copying.
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_axis = 0, int64_t end_axis = -1);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor permute(const Tensor& x, const Axes& order);
// Elements start, start+step, ... below end along `axis` (negative start/end count from the end).
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
// The sub-tensor at `index` along `axis`, with that axis removed.
Tensor select(const Tensor& x, int64_t axis, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t axis);
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
// Converts the element type; differentiable between floating types.
Tensor to(const Tensor& x, DType dtype);

// ---- joining, splitting, indexing ----
Tensor concat(const std::vector<Tensor>& xs, int64_t axis = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t axis = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t axis = 0);
// Rows of x along `axis` picked by the int64 1-D `index` (repeats allowed; gradients add up).
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
// out[i][j] = x[i][index[i][j]] for axis 1, etc. (torch.gather); index is int64 of x's rank.
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
// x with `value` where mask (bool, broadcastable to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// a where cond is true, else b (broadcasting all three).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- comparisons (bool result, no gradient) ----
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor logical_not(const Tensor& mask);

// ---- helpers for writing backward formulas ----
// Sums a broadcast gradient back down to `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace ember
