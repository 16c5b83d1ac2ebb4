// Fused softmax-cross-entropy. One pass finds the maximum, a second sums exp(x - max) (so exp never
// overflows); the backward recomputes softmax from the saved log-sum-exp instead of storing an (N, C)
// probability tensor.
//
// Per position with class-index target t, weights w (1 without), smoothing e and C classes:
//   loss = (1 - e) w_t (lse - x_t) + (e / C) sum_c w_c (lse - x_c)
//   dloss/dx_c = p_c ((1 - e) w_t + (e / C) sum_k w_k) - (e / C) w_c - [c == t] (1 - e) w_t
// With probability targets q (smoothed q' = (1 - e) q + e / C):
//   loss = sum_c w_c q'_c (lse - x_c),  dloss/dx_c = p_c sum_k w_k q'_k - w_c q'_c,
//   dloss/dq_c = (1 - e) w_c (lse - x_c).
#include "ember/kernels/loss.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ember/kernels/loops.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

namespace {

// exp that GCC vectorises (Cephes expf: range reduction by ln 2 and a degree-5 polynomial, relative error
// about 2e-7 over the range used here). Double keeps std::exp (the float64 tests compare to 1e-9).
inline float vexp(float x) {
  x = x < -87.0f ? -87.0f : x;  // ternaries, not std::min/max: GCC if-converts these inside store loops
  x = x > 88.0f ? 88.0f : x;
  const float shift = 12582912.0f;  // 1.5 * 2^23: adding and subtracting rounds to the nearest integer
  float k = (x * 1.44269504088896341f + shift) - shift;
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  return y * std::bit_cast<float>(bits);
}
inline double vexp(double x) {
  return std::exp(x);
}

template <typename T>
int64_t row_grain(int64_t c) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(c, 1));
}

// Eight floats at a time with GCC's vector extensions. GCC does not vectorise vexp itself in loops that store
// (it will not if-convert the clamp there, the comparison being allowed to trap), so the backward's hot loop
// is written over vectors explicitly; it is the same arithmetic as vexp.
typedef float V8f __attribute__((vector_size(32)));
typedef int32_t V8i __attribute__((vector_size(32)));

inline V8f vexp8(V8f x) {
  const V8f lo = V8f{} - 87.0f, hi = V8f{} + 88.0f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const float shift = 12582912.0f;
  V8f k = (x * 1.44269504088896341f + shift) - shift;
  V8f r = x - k * 0.693359375f + k * 2.12194440e-4f;
  V8f p = V8f{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  V8f y = p * r * r + r + 1.0f;
  V8i bits = (__builtin_convertvector(k, V8i) + 127) << 23;
  return y * std::bit_cast<V8f>(bits);
}

// log-sum-exp of c values at stride `st` (st == 1 is the vectorised case).
template <typename T, bool Unit>
inline T row_lse(const T* x, int64_t c, int64_t st) {
  const int64_t s = Unit ? 1 : st;
  T m = -std::numeric_limits<T>::infinity();
  int64_t k0 = 0;
  if constexpr (Unit && std::is_same_v<T, float>) {
    if (c >= 8) {
      V8f mv = V8f{} + m;
      for (; k0 + 8 <= c; k0 += 8) {
        V8f v;
        __builtin_memcpy(&v, x + k0, sizeof(v));
        mv = v > mv ? v : mv;
      }
      for (int i = 0; i < 8; ++i) m = std::max(m, mv[i]);
    }
  }
  for (int64_t k = k0; k < c; ++k) m = std::max(m, x[k * s]);
  if (std::isinf(m)) return m;  // all -inf (or a +inf logit): let the NaN/inf show, like PyTorch
  T sum = 0;
  k0 = 0;
  if constexpr (Unit && std::is_same_v<T, float>) {
    if (c >= 8) {
      V8f acc = V8f{};
      for (; k0 + 8 <= c; k0 += 8) {
        V8f v;
        __builtin_memcpy(&v, x + k0, sizeof(v));
        acc += vexp8(v - m);
      }
      for (int i = 0; i < 8; ++i) sum += acc[i];
    }
  }
  for (int64_t k = k0; k < c; ++k) sum += vexp(x[k * s] - m);
  return m + std::log(sum);
}

// o[k] = exp(x[k] - l) * coef - sec * (w ? w[k] : 1), the common form of every backward row.
template <typename T, bool Unit>
inline void softmax_affine_row(const T* __restrict x, T l, T coef, T sec, const T* __restrict w,
                               T* __restrict o, int64_t c, int64_t st) {
  const int64_t s = Unit ? 1 : st;
  int64_t k = 0;
  if constexpr (Unit && std::is_same_v<T, float>) {
    for (; k + 8 <= c; k += 8) {
      V8f xv, wv = V8f{} + 1.0f, ov;
      __builtin_memcpy(&xv, x + k, sizeof(xv));
      if (w) __builtin_memcpy(&wv, w + k, sizeof(wv));
      ov = vexp8(xv - l) * coef - sec * wv;
      __builtin_memcpy(o + k, &ov, sizeof(ov));
    }
  }
  for (; k < c; ++k) o[k * s] = vexp(x[k * s] - l) * coef - sec * (w ? w[k] : T(1));
}

template <typename T, bool Unit>
void forward_positions(const SoftmaxCeArgs<T>& a, int64_t lo, int64_t hi, T sum_w, T* lse, T* loss) {
  const int64_t c = a.c, d = a.d, s = Unit ? 1 : d;
  const T e = static_cast<T>(a.smoothing), ec = static_cast<T>(a.smoothing / static_cast<double>(c));
  for (int64_t p = lo; p < hi; ++p) {
    const int64_t n = p / d, j = p - n * d;
    const T* x = a.x + n * c * d + j;
    T l = row_lse<T, Unit>(x, c, s);
    lse[p] = l;
    if (a.target_index) {
      int64_t t = a.target_index[p];
      if (t == a.ignore_index) {
        loss[p] = 0;
        continue;
      }
      T wt = a.weight ? a.weight[t] : T(1);
      T v = (1 - e) * wt * (l - x[t * s]);
      if (e != 0) {
        T wx = 0;
        if (a.weight) {
#pragma omp simd reduction(+ : wx)
          for (int64_t k = 0; k < c; ++k) wx += a.weight[k] * x[k * s];
        } else {
#pragma omp simd reduction(+ : wx)
          for (int64_t k = 0; k < c; ++k) wx += x[k * s];
        }
        v += ec * (sum_w * l - wx);
      }
      loss[p] = v;
    } else {
      const T* q = a.target_prob + n * c * d + j;
      T v = 0;
#pragma omp simd reduction(+ : v)
      for (int64_t k = 0; k < c; ++k) {
        T w = a.weight ? a.weight[k] : T(1);
        v += w * ((1 - e) * q[k * s] + ec) * (l - x[k * s]);
      }
      loss[p] = v;
    }
  }
}

template <typename T, bool Unit>
void backward_positions(const SoftmaxCeArgs<T>& a, int64_t lo, int64_t hi, T sum_w, const T* lse, const T* g,
                        bool g_per_position, T scale, T* dx, T* dq) {
  const int64_t c = a.c, d = a.d, s = Unit ? 1 : d;
  const T e = static_cast<T>(a.smoothing), ec = static_cast<T>(a.smoothing / static_cast<double>(c));
  for (int64_t p = lo; p < hi; ++p) {
    const int64_t n = p / d, j = p - n * d;
    const int64_t base = n * c * d + j;
    const T* x = a.x + base;
    T* o = dx + base;
    const T sp = scale * (g_per_position ? g[p] : g[0]);
    const T l = lse[p];
    if (a.target_index) {
      int64_t t = a.target_index[p];
      if (t == a.ignore_index) {
        for (int64_t k = 0; k < c; ++k) o[k * s] = 0;
        continue;
      }
      T wt = a.weight ? a.weight[t] : T(1);
      T coef = sp * ((1 - e) * wt + ec * sum_w);
      T sec = sp * ec;
      softmax_affine_row<T, Unit>(x, l, coef, sec, a.weight, o, c, s);
      o[t * s] -= sp * (1 - e) * wt;
    } else {
      const T* q = a.target_prob + base;
      T A = 0;
#pragma omp simd reduction(+ : A)
      for (int64_t k = 0; k < c; ++k) A += (a.weight ? a.weight[k] : T(1)) * ((1 - e) * q[k * s] + ec);
#pragma omp simd
      for (int64_t k = 0; k < c; ++k) {
        T w = a.weight ? a.weight[k] : T(1);
        o[k * s] = sp * (vexp(x[k * s] - l) * A - w * ((1 - e) * q[k * s] + ec));
      }
      if (dq) {
        T* oq = dq + base;
        for (int64_t k = 0; k < c; ++k) {
          T w = a.weight ? a.weight[k] : T(1);
          oq[k * s] = sp * (1 - e) * w * (l - x[k * s]);
        }
      }
    }
  }
}

template <typename T>
T weight_total(const SoftmaxCeArgs<T>& a) {
  if (!a.weight) return static_cast<T>(a.c);
  T s = 0;
  for (int64_t k = 0; k < a.c; ++k) s += a.weight[k];
  return s;
}

}  // namespace

template <typename T>
void softmax_ce_forward(const SoftmaxCeArgs<T>& a, T* lse, T* loss) {
  const T sum_w = weight_total(a);
  parallel_for(0, a.n * a.d, row_grain<T>(a.c), [&](int64_t lo, int64_t hi) {
    if (a.d == 1)
      forward_positions<T, true>(a, lo, hi, sum_w, lse, loss);
    else
      forward_positions<T, false>(a, lo, hi, sum_w, lse, loss);
  });
}

template <typename T>
void softmax_ce_backward(const SoftmaxCeArgs<T>& a, const T* lse, const T* g, bool g_per_position,
                         double scale, T* dx, T* dtarget) {
  const T sum_w = weight_total(a);
  const T sc = static_cast<T>(scale);
  parallel_for(0, a.n * a.d, row_grain<T>(a.c), [&](int64_t lo, int64_t hi) {
    if (a.d == 1)
      backward_positions<T, true>(a, lo, hi, sum_w, lse, g, g_per_position, sc, dx, dtarget);
    else
      backward_positions<T, false>(a, lo, hi, sum_w, lse, g, g_per_position, sc, dx, dtarget);
  });
}

template void softmax_ce_forward<float>(const SoftmaxCeArgs<float>&, float*, float*);
template void softmax_ce_forward<double>(const SoftmaxCeArgs<double>&, double*, double*);
template void softmax_ce_backward<float>(const SoftmaxCeArgs<float>&, const float*, const float*, bool,
                                         double, float*, float*);
template void softmax_ce_backward<double>(const SoftmaxCeArgs<double>&, const double*, const double*, bool,
                                          double, double*, double*);

}  // namespace ember::kernels
