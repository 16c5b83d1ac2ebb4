// Reference softmax cross-entropy: the textbook formulas, one position at a time, in double. Slow on purpose;
// tests compare kernels/cpu/loss.cpp against it.
#include "ember/kernels/loss.h"

#include <cmath>
#include <vector>

namespace ember::kernels::ref {

namespace {

// The smoothed, weighted target distribution's coefficients: loss = sum_c coef_c * (-log p_c).
template <typename T>
bool target_coefs(const SoftmaxCeArgs<T>& a, int64_t n, int64_t j, std::vector<double>& coef) {
  const double e = a.smoothing, C = static_cast<double>(a.c);
  for (int64_t k = 0; k < a.c; ++k) {
    double w = a.weight ? static_cast<double>(a.weight[k]) : 1.0;
    double q;
    if (a.target_index) {
      int64_t t = a.target_index[n * a.d + j];
      if (t == a.ignore_index) return false;
      // (1 - e) on the true class (with its weight) plus e / C on every class (with each class's weight).
      q = (k == t ? 1.0 - e : 0.0) + e / C;
    } else {
      q = (1.0 - e) * static_cast<double>(a.target_prob[(n * a.c + k) * a.d + j]) + e / C;
    }
    coef[k] = w * q;
  }
  return true;
}

template <typename T>
double log_sum_exp(const SoftmaxCeArgs<T>& a, int64_t n, int64_t j) {
  double m = -INFINITY;
  for (int64_t k = 0; k < a.c; ++k) m = std::fmax(m, static_cast<double>(a.x[(n * a.c + k) * a.d + j]));
  double s = 0;
  for (int64_t k = 0; k < a.c; ++k) s += std::exp(static_cast<double>(a.x[(n * a.c + k) * a.d + j]) - m);
  return m + std::log(s);
}

}  // namespace

template <typename T>
void softmax_ce_forward(const SoftmaxCeArgs<T>& a, T* lse, T* loss) {
  std::vector<double> coef(a.c);
  for (int64_t n = 0; n < a.n; ++n)
    for (int64_t j = 0; j < a.d; ++j) {
      double l = log_sum_exp(a, n, j);
      lse[n * a.d + j] = static_cast<T>(l);
      double v = 0;
      if (target_coefs(a, n, j, coef))
        for (int64_t k = 0; k < a.c; ++k)
          v += coef[k] * (l - static_cast<double>(a.x[(n * a.c + k) * a.d + j]));
      loss[n * a.d + j] = static_cast<T>(v);
    }
}

template <typename T>
void softmax_ce_backward(const SoftmaxCeArgs<T>& a, const T* lse, const T* g, bool g_per_position,
                         double scale, T* dx, T* dtarget) {
  (void)lse;  // recomputed in double
  std::vector<double> coef(a.c);
  for (int64_t n = 0; n < a.n; ++n)
    for (int64_t j = 0; j < a.d; ++j) {
      const int64_t p = n * a.d + j;
      double s = scale * static_cast<double>(g_per_position ? g[p] : g[0]);
      double l = log_sum_exp(a, n, j);
      bool active = target_coefs(a, n, j, coef);
      double total = 0;
      for (double v : coef) total += v;
      for (int64_t k = 0; k < a.c; ++k) {
        const int64_t i = (n * a.c + k) * a.d + j;
        double x = static_cast<double>(a.x[i]);
        // d/dx_k sum_c coef_c (lse - x_c) = softmax_k * sum_c coef_c - coef_k
        dx[i] = active ? static_cast<T>(s * (std::exp(x - l) * total - coef[k])) : T(0);
        if (dtarget) {
          double w = a.weight ? static_cast<double>(a.weight[k]) : 1.0;
          dtarget[i] = static_cast<T>(s * (1.0 - a.smoothing) * w * (l - x));
        }
      }
    }
}

template void softmax_ce_forward<float>(const SoftmaxCeArgs<float>&, float*, float*);
template void softmax_ce_forward<double>(const SoftmaxCeArgs<double>&, double*, double*);
template void softmax_ce_backward<float>(const SoftmaxCeArgs<float>&, const float*, const float*, bool,
                                         double, float*, float*);
template void softmax_ce_backward<double>(const SoftmaxCeArgs<double>&, const double*, const double*, bool,
                                          double, double*, double*);

}  // namespace ember::kernels::ref
