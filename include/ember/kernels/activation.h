// Elementwise transcendental and activation kernels over contiguous arrays (no autograd). The float32 kernels
// use polynomial approximations (exp, tanh, erf; within a few ulp of the correctly rounded value, NaN
// propagating, saturating correctly at +-inf) that the compiler vectorises, and split large arrays over the
// threads; the float64 ones call the std:: functions. ref:: holds plain, readable versions used as test
// oracles.
//
//   kernels::tanh(x.data<float>(), y.data<float>(), x.numel());
//   kernels::softmax<float>(x, y, outer, n, inner, /*log=*/false);   // along the middle axis of (outer, n,
//   inner)
#pragma once

#include <cstdint>

namespace ember::kernels {

void exp(const float* x, float* y, int64_t n);
void exp(const double* x, double* y, int64_t n);
void log(const float* x, float* y, int64_t n);
void log(const double* x, double* y, int64_t n);
void tanh(const float* x, float* y, int64_t n);
void tanh(const double* x, double* y, int64_t n);
void sigmoid(const float* x, float* y, int64_t n);
void sigmoid(const double* x, double* y, int64_t n);
void erf(const float* x, float* y, int64_t n);
void erf(const double* x, double* y, int64_t n);
// gelu(x) = x * Phi(x) (tanh_approx: PyTorch's approximate="tanh" formula).
void gelu(const float* x, float* y, int64_t n, bool tanh_approx);
void gelu(const double* x, double* y, int64_t n, bool tanh_approx);
// dx = g * gelu'(x).
void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_approx);
void gelu_backward(const double* x, const double* g, double* dx, int64_t n, bool tanh_approx);

// Softmax (or log-softmax) of a contiguous (outer, n, inner) block along the middle axis, max-subtracted.
template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log);
// Given y = softmax (or log_softmax) output and the incoming gradient g, dx along the same axis:
// softmax: dx = y * (g - sum(g * y)); log_softmax: dx = g - exp(y) * sum(g).
template <typename T>
void softmax_backward(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log);

namespace ref {
void exp(const float* x, float* y, int64_t n);
void log(const float* x, float* y, int64_t n);
void tanh(const float* x, float* y, int64_t n);
void sigmoid(const float* x, float* y, int64_t n);
void erf(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n, bool tanh_approx);
void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_approx);
template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log);
template <typename T>
void softmax_backward(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log);
}  // namespace ref

}  // namespace ember::kernels
