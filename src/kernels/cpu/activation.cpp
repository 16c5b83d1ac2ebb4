// Fast elementwise kernels. The float32 element functions are branch-free (both sides of a range split are
// computed and one is selected) and use only +, *, /, comparisons and bit casts, so that g++ turns the loops
// into AVX-512 code; std::expf and friends are scalar library calls that the compiler cannot vectorise
// without -ffast-math. The polynomials are Cephes' (exp, tanh) and least-squares fits for erf, all within a
// few ulp.
#include "ember/kernels/activation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "ember/kernels/loops.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

namespace {

// e^x: x = k ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^k built in the exponent bits. 2^k is
// applied as two factors so that k in [-150, 128] (subnormal results and the overflow edge) stays exact.
inline float exp_f(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer kept in the low bits
  float xc = x < -104.0f ? -104.0f : x;  // below: 0 (NaN passes both comparisons unchanged)
  xc = xc > 89.0f ? 89.0f : xc;          // above: +inf
  float t = xc * 1.44269504088896341f + kMagic;
  float k = t - kMagic;
  int32_t ki = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kMagic);
  float r = xc - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t k1 = ki >> 1;
  int32_t k2 = ki - k1;
  float s1 = std::bit_cast<float>((k1 + 127) << 23);
  float s2 = std::bit_cast<float>((k2 + 127) << 23);
  return y * s1 * s2;
}

// ln x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln(m) by Cephes' polynomial in m - 1.
inline float log_f(float x) {
  bool sub = x < 1.17549435e-38f;  // subnormal (or <= 0): scale up by 2^23 first
  float xs = sub ? x * 8388608.0f : x;
  int32_t bits = std::bit_cast<int32_t>(xs);
  int32_t e = ((bits >> 23) & 0xff) - 126;
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  bool small = m < 0.707106781186547524f;
  float ef = static_cast<float>(e) - (small ? 1.0f : 0.0f) - (sub ? 23.0f : 0.0f);
  float f = small ? m + m - 1.0f : m - 1.0f;
  float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  y = y + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  float res = f + y;
  res = res + ef * 0.693359375f;
  // Special values: ln 0 = -inf, ln(<0) = NaN, ln(inf) = inf, NaN stays NaN.
  res = x == 0.0f ? -INFINITY : res;
  res = x < 0.0f ? NAN : res;
  res = x == INFINITY ? INFINITY : res;
  return x != x ? x : res;
}

// tanh: an odd polynomial below 0.625 (no cancellation), 1 - 2 / (e^{2|x|} + 1) above.
inline float tanh_f(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float e = exp_f(2.0f * ax);
  float large = std::copysign(1.0f - 2.0f / (e + 1.0f), x);
  return ax < 0.625f ? small : large;
}

// sigmoid via e = e^{-|x|} <= 1: 1/(1+e) or e/(1+e), accurate in both tails.
inline float sigmoid_f(float x) {
  float e = exp_f(-std::fabs(x));
  float r = 1.0f / (1.0f + e);
  return x < 0.0f ? e * r : r;
}

// erf: below 0.9, x * P(x^2); above, 1 - e^{-x^2} Q(1/x) with Q ~ erfc(x) e^{x^2}, so that there is no
// cancellation on either side. Both least-squares fits (float32 coefficients) are within 1e-7 relative.
inline float erf_f(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float p = -6.144141661934555e-4f;
  p = p * z + 5.0232987850904465e-3f;
  p = p * z - 2.678740955889225e-2f;
  p = p * z + 1.1282408982515335e-1f;
  p = p * z - 3.761255443096161e-1f;
  p = p * z + 1.1283791065216064f;
  float small = p * x;
  float ac = ax > 4.1f ? 4.1f : ax;  // erf rounds to +-1 beyond (NaN passes)
  ac = ac < 0.9f ? 0.9f : ac;
  float t = 1.0f / ac;
  float q = -2.2960636764764786e-2f;
  q = q * t + 1.7022253572940826e-1f;
  q = q * t - 5.532836318016052e-1f;
  q = q * t + 1.0181587934494019f;
  q = q * t - 1.1142948865890503f;
  q = q * t + 6.231288909912109e-1f;
  q = q * t + 5.666731297969818e-2f;
  q = q * t - 3.234347403049469e-1f;
  q = q * t + 1.0419017635285854e-2f;
  q = q * t + 5.62894880771637e-1f;
  q = q * t + 6.604735244764015e-5f;
  float large = std::copysign(1.0f - exp_f(-ac * ac) * q, x);
  large = ax > 4.1f ? std::copysign(1.0f, x) : large;
  return ax < 0.9f ? small : large;
}

constexpr double kSqrt1_2 = 0.707106781186547524401;
constexpr double kInvSqrt2Pi = 0.398942280401432677940;  // 1 / sqrt(2 pi)
constexpr double kBeta = 0.797884560802865355879;        // sqrt(2 / pi)
constexpr double kKappa = 0.044715;

inline float gelu_f(float x) {
  return 0.5f * x * (1.0f + erf_f(x * static_cast<float>(kSqrt1_2)));
}

// x * 0.5 * (1 + tanh(u)) = x * sigmoid(2u), without the cancellation of 1 + tanh(u) for negative u.
inline float gelu_tanh_f(float x) {
  float u = static_cast<float>(kBeta) * (x + static_cast<float>(kKappa) * x * x * x);
  return x * sigmoid_f(2.0f * u);
}

inline float gelu_grad_f(float x) {
  float cdf = 0.5f * (1.0f + erf_f(x * static_cast<float>(kSqrt1_2)));
  float pdf = exp_f(-0.5f * x * x) * static_cast<float>(kInvSqrt2Pi);
  return cdf + x * pdf;
}

inline float gelu_tanh_grad_f(float x) {
  float x2 = x * x;
  float u = static_cast<float>(kBeta) * (x + static_cast<float>(kKappa) * x2 * x);
  // With s = sigmoid(2u): (1 + tanh u) / 2 = s and 1 - tanh^2 u = 4 s (1 - s), free of cancellation for u <<
  // 0. With e = e^{-2|u|} and r = 1 / (1 + e): s (1 - s) = e r^2.
  float e = exp_f(-2.0f * std::fabs(u));
  float r = 1.0f / (1.0f + e);
  float s = u < 0.0f ? e * r : r;
  float du = static_cast<float>(kBeta) * (1.0f + 3.0f * static_cast<float>(kKappa) * x2);
  float d = s + 2.0f * x * (e * r * r) * du;
  return std::fabs(x) > 10.0f ? (x > 0.0f ? 1.0f : 0.0f) : d;  // beyond, e r^2 x du is 0 * inf
}

double gelu_d(double x) {
  return 0.5 * x * (1.0 + std::erf(x * kSqrt1_2));
}
double gelu_tanh_d(double x) {
  return 0.5 * x * (1.0 + std::tanh(kBeta * (x + kKappa * x * x * x)));
}
double gelu_grad_d(double x) {
  return 0.5 * (1.0 + std::erf(x * kSqrt1_2)) + x * std::exp(-0.5 * x * x) * kInvSqrt2Pi;
}
double gelu_tanh_grad_d(double x) {
  double x2 = x * x;
  double t = std::tanh(kBeta * (x + kKappa * x2 * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kBeta * (1.0 + 3.0 * kKappa * x2);
}
double sigmoid_d(double x) {
  double e = std::exp(-std::fabs(x));
  double r = 1.0 / (1.0 + e);
  return x < 0 ? e * r : r;
}

// y[i] = f(x[i]) split over the threads; the inner loop is what the compiler vectorises.
template <typename T, typename F>
void map(const T* x, T* y, int64_t n, F f) {
  parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i]);
  });
}

template <typename T, typename F>
void map_grad(const T* x, const T* g, T* dx, int64_t n, F f) {
  parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] = g[i] * f(x[i]);
  });
}

inline float exp_t(float x) {
  return exp_f(x);
}
inline double exp_t(double x) {
  return std::exp(x);
}

// Reductions of a contiguous run with 16 independent lanes: vectorisable without reassociation.
constexpr int kLanes = 16;

template <typename T>
T max_run(const T* p, int64_t n) {
  T acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = -INFINITY;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = p[i + j] > acc[j] ? p[i + j] : acc[j];
  T m = -INFINITY;
  for (int j = 0; j < kLanes; ++j) m = acc[j] > m ? acc[j] : m;
  for (; i < n; ++i) m = p[i] > m ? p[i] : m;
  return m;
}

template <typename T>
T sum_run(const T* p, int64_t n) {
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += p[i + j];
  T s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += p[i];
  return s;
}

template <typename T>
T dot_run(const T* a, const T* b, int64_t n) {
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  T s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// The softmax axis is the last one (inner == 1): one row at a time, each pass a contiguous vector loop.
template <typename T>
void softmax_rows(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   const T* xr = x + r * n;
                   T* yr = y + r * n;
                   const T m = max_run(xr, n);
                   for (int64_t i = 0; i < n; ++i) yr[i] = exp_t(xr[i] - m);
                   const T s = sum_run(yr, n);
                   if (log) {
                     const T shift = m + std::log(s);
                     for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] - shift;
                   } else {
                     const T inv = T(1) / s;
                     for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
                   }
                 }
               });
}

// Tiles of up to kTile columns of the inner dimension; each tile keeps its running max and sum on the stack.
constexpr int64_t kTile = 256;

template <typename T, typename F>
void for_tiles(int64_t outer, int64_t n, int64_t inner, F f) {
  const int64_t tiles = (inner + kTile - 1) / kTile;
  const int64_t work = std::max<int64_t>(1, n * std::min(inner, kTile));
  parallel_for(0, outer * tiles, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / tiles, c0 = (t % tiles) * kTile;
      f(o * n * inner + c0, std::min(kTile, inner - c0));
    }
  });
}

template <typename T>
void softmax_middle(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  for_tiles<T>(outer, n, inner, [&](int64_t base, int64_t w) {
    T m[kTile], s[kTile];
    for (int64_t j = 0; j < w; ++j) {
      m[j] = -INFINITY;
      s[j] = 0;
    }
    for (int64_t k = 0; k < n; ++k) {
      const T* xr = x + base + k * inner;
      for (int64_t j = 0; j < w; ++j) m[j] = xr[j] > m[j] ? xr[j] : m[j];
    }
    for (int64_t k = 0; k < n; ++k) {
      const T* xr = x + base + k * inner;
      T* yr = y + base + k * inner;
      for (int64_t j = 0; j < w; ++j) {
        yr[j] = exp_t(xr[j] - m[j]);
        s[j] += yr[j];
      }
    }
    if (log) {
      for (int64_t j = 0; j < w; ++j) m[j] += std::log(s[j]);
      for (int64_t k = 0; k < n; ++k) {
        const T* xr = x + base + k * inner;
        T* yr = y + base + k * inner;
        for (int64_t j = 0; j < w; ++j) yr[j] = xr[j] - m[j];
      }
    } else {
      for (int64_t j = 0; j < w; ++j) s[j] = T(1) / s[j];
      for (int64_t k = 0; k < n; ++k) {
        T* yr = y + base + k * inner;
        for (int64_t j = 0; j < w; ++j) yr[j] *= s[j];
      }
    }
  });
}

}  // namespace

void exp(const float* x, float* y, int64_t n) {
  map(x, y, n, [](float v) { return exp_f(v); });
}
void exp(const double* x, double* y, int64_t n) {
  map(x, y, n, [](double v) { return std::exp(v); });
}
void log(const float* x, float* y, int64_t n) {
  map(x, y, n, [](float v) { return log_f(v); });
}
void log(const double* x, double* y, int64_t n) {
  map(x, y, n, [](double v) { return std::log(v); });
}
void tanh(const float* x, float* y, int64_t n) {
  map(x, y, n, [](float v) { return tanh_f(v); });
}
void tanh(const double* x, double* y, int64_t n) {
  map(x, y, n, [](double v) { return std::tanh(v); });
}
void sigmoid(const float* x, float* y, int64_t n) {
  map(x, y, n, [](float v) { return sigmoid_f(v); });
}
void sigmoid(const double* x, double* y, int64_t n) {
  map(x, y, n, [](double v) { return sigmoid_d(v); });
}
void erf(const float* x, float* y, int64_t n) {
  map(x, y, n, [](float v) { return erf_f(v); });
}
void erf(const double* x, double* y, int64_t n) {
  map(x, y, n, [](double v) { return std::erf(v); });
}

void gelu(const float* x, float* y, int64_t n, bool tanh_approx) {
  if (tanh_approx)
    map(x, y, n, [](float v) { return gelu_tanh_f(v); });
  else
    map(x, y, n, [](float v) { return gelu_f(v); });
}
void gelu(const double* x, double* y, int64_t n, bool tanh_approx) {
  if (tanh_approx)
    map(x, y, n, [](double v) { return gelu_tanh_d(v); });
  else
    map(x, y, n, [](double v) { return gelu_d(v); });
}
void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_approx) {
  if (tanh_approx)
    map_grad(x, g, dx, n, [](float v) { return gelu_tanh_grad_f(v); });
  else
    map_grad(x, g, dx, n, [](float v) { return gelu_grad_f(v); });
}
void gelu_backward(const double* x, const double* g, double* dx, int64_t n, bool tanh_approx) {
  if (tanh_approx)
    map_grad(x, g, dx, n, [](double v) { return gelu_tanh_grad_d(v); });
  else
    map_grad(x, g, dx, n, [](double v) { return gelu_grad_d(v); });
}

template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1)
    softmax_rows(x, y, outer, n, log);
  else
    softmax_middle(x, y, outer, n, inner, log);
}

template <typename T>
void softmax_backward(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    parallel_for(0, outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const T* yr = y + r * n;
                     const T* gr = g + r * n;
                     T* dr = dx + r * n;
                     if (log) {
                       const T s = sum_run(gr, n);
                       for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - exp_t(yr[i]) * s;
                     } else {
                       const T s = dot_run(gr, yr, n);
                       for (int64_t i = 0; i < n; ++i) dr[i] = yr[i] * (gr[i] - s);
                     }
                   }
                 });
    return;
  }
  for_tiles<T>(outer, n, inner, [&](int64_t base, int64_t w) {
    T s[kTile];
    for (int64_t j = 0; j < w; ++j) s[j] = 0;
    for (int64_t k = 0; k < n; ++k) {
      const T* yr = y + base + k * inner;
      const T* gr = g + base + k * inner;
      if (log)
        for (int64_t j = 0; j < w; ++j) s[j] += gr[j];
      else
        for (int64_t j = 0; j < w; ++j) s[j] += gr[j] * yr[j];
    }
    for (int64_t k = 0; k < n; ++k) {
      const T* yr = y + base + k * inner;
      const T* gr = g + base + k * inner;
      T* dr = dx + base + k * inner;
      if (log)
        for (int64_t j = 0; j < w; ++j) dr[j] = gr[j] - exp_t(yr[j]) * s[j];
      else
        for (int64_t j = 0; j < w; ++j) dr[j] = yr[j] * (gr[j] - s[j]);
    }
  });
}

template void softmax<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t,
                                       bool);

}  // namespace ember::kernels
