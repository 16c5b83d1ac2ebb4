// Reference versions of the activation kernels: the textbook formulas in double precision through the std::
// functions, one element at a time. Slow and obviously right; the tests use them as the oracle for the fast
// kernels in src/kernels/cpu/activation.cpp.
#include "ember/kernels/activation.h"

#include <cmath>

namespace ember::kernels::ref {

namespace {
constexpr double kSqrt1_2 = 0.707106781186547524401;
constexpr double kBeta = 0.797884560802865355879;  // sqrt(2 / pi)
constexpr double kKappa = 0.044715;
constexpr double kPi = 3.14159265358979323846;
}  // namespace

void exp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::exp(double(x[i])));
}
void log(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::log(double(x[i])));
}
void tanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::tanh(double(x[i])));
}
void sigmoid(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(x[i]))));
}
void erf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::erf(double(x[i])));
}

// gelu(x) = x * Phi(x) = 0.5 x erfc(-x / sqrt 2) (erfc keeps the negative tail accurate).
void gelu(const float* x, float* y, int64_t n, bool tanh_approx) {
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    y[i] = static_cast<float>(tanh_approx ? 0.5 * v * (1.0 + std::tanh(kBeta * (v + kKappa * v * v * v)))
                                          : 0.5 * v * std::erfc(-v * kSqrt1_2));
  }
}

void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_approx) {
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i], d;
    if (tanh_approx) {
      double t = std::tanh(kBeta * (v + kKappa * v * v * v));
      d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * kBeta * (1.0 + 3.0 * kKappa * v * v);
    } else {
      d = 0.5 * std::erfc(-v * kSqrt1_2) + v * std::exp(-0.5 * v * v) / std::sqrt(2.0 * kPi);
    }
    dx[i] = static_cast<float>(g[i] * d);
  }
}

template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const T* xs = x + o * n * inner + j;
      T* ys = y + o * n * inner + j;
      double m = -INFINITY;
      for (int64_t k = 0; k < n; ++k) m = std::fmax(m, double(xs[k * inner]));
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::exp(double(xs[k * inner]) - m);
      for (int64_t k = 0; k < n; ++k) {
        double z = double(xs[k * inner]) - m;
        ys[k * inner] = static_cast<T>(log ? z - std::log(s) : std::exp(z) / s);
      }
    }
  }
}

template <typename T>
void softmax_backward(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t base = o * n * inner + j;
      double s = 0;
      for (int64_t k = 0; k < n; ++k)
        s += double(g[base + k * inner]) * (log ? 1.0 : double(y[base + k * inner]));
      for (int64_t k = 0; k < n; ++k) {
        double yk = y[base + k * inner], gk = g[base + k * inner];
        dx[base + k * inner] = static_cast<T>(log ? gk - std::exp(yk) * s : yk * (gk - s));
      }
    }
  }
}

template void softmax<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t,
                                       bool);

}  // namespace ember::kernels::ref
