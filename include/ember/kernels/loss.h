// Fused softmax-cross-entropy kernels over raw pointers (no autograd), used by ember::cross_entropy and the
// Keras-style helpers. Logits are contiguous (N, C, D): N samples, C classes at stride D, D positions (D = 1
// for (N, C)). The forward keeps only the log-sum-exp of each position for the backward.
//
//   kernels::SoftmaxCeArgs<float> a{x, n, c, d}; a.target_index = t;  // int64 (N, D)
//   kernels::softmax_ce_forward(a, lse, loss);   // per-position loss (N * D), lse (N * D)
//   kernels::softmax_ce_backward(a, lse, g, /*g_per_position=*/false, scale, dx, nullptr);
#pragma once

#include <cstdint>

namespace ember::kernels {

template <typename T>
struct SoftmaxCeArgs {
  const T* x = nullptr;
  int64_t n = 0, c = 0, d = 1;
  const int64_t* target_index = nullptr;  // (N, D) class indices, all in [0, C) or == ignore_index; or
  const T* target_prob = nullptr;         // (N, C, D) probabilities
  const T* weight = nullptr;              // (C,) or null
  int64_t ignore_index = -100;
  double smoothing = 0.0;
};

// lse[p] = log sum_c exp(x[p, c]); loss[p] = the (weighted, smoothed) cross-entropy at position p (0 where
// ignored).
template <typename T>
void softmax_ce_forward(const SoftmaxCeArgs<T>& a, T* lse, T* loss);

// dx = s_p * d loss[p] / dx with s_p = scale * g[p] (g_per_position) or scale * g[0]. With probability
// targets, dtarget (if not null) receives s_p * d loss[p] / d target.
template <typename T>
void softmax_ce_backward(const SoftmaxCeArgs<T>& a, const T* lse, const T* g, bool g_per_position,
                         double scale, T* dx, T* dtarget);

// Readable reference versions (one position at a time, softmax formed explicitly in double), the oracle the
// tests hold the fast kernels to.
namespace ref {
template <typename T>
void softmax_ce_forward(const SoftmaxCeArgs<T>& a, T* lse, T* loss);
template <typename T>
void softmax_ce_backward(const SoftmaxCeArgs<T>& a, const T* lse, const T* g, bool g_per_position,
                         double scale, T* dx, T* dtarget);
}  // namespace ref

}  // namespace ember::kernels
