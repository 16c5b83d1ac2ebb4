// Pooling, batch norm and layer norm kernels: parallel over planes / channels / rows (static split, so
// results are bitwise deterministic), contiguous inner loops the compiler vectorises. References in
// src/kernels/ref.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ember/kernels/conv.h"
#include "ember/kernels/parallel.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define EMBER_POOL_AVX2 1
#endif

namespace ember::kernels {

namespace {
// Planes per parallel chunk so that a chunk holds about 16k elements.
int64_t plane_grain(int64_t plane_size) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_size, 1));
}
}  // namespace

#ifdef EMBER_POOL_AVX2
// Lane mask for the first r floats (r clamped to 0..8).
inline __m256i lanes_mask(int64_t r) {
  alignas(32) static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  r = std::clamp<int64_t>(r, 0, 8);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + 8 - r));
}

// Outputs j0 .. j0 + count - 1 (count <= 8) of one 2x2/2 output row from input rows r0, r1 (columns 2 * j0 ..
// 2 * j0 + 2 * count - 1), with the scalar loop's rule: window order (0,0), (0,1), (1,0), (1,1), a later
// element wins if greater or NaN. `spill`: the caller allows reading 16 floats of each input row from 2 * j0
// and writing 8 outputs from j0 (outputs past the row belong to the next row, which is computed afterwards);
// otherwise a partial group uses masked loads and stores through a small buffer.
template <bool kArgmax>
inline void max_pool2x2_row8(const float* r0, const float* r1, int64_t j0, int64_t count, bool spill,
                             int32_t base, int32_t w, float* y, int32_t* arg) {
  if (spill) count = 8;
  __m256 a0, a1, b0, b1;
  if (count == 8) {
    a0 = _mm256_loadu_ps(r0 + 2 * j0), a1 = _mm256_loadu_ps(r0 + 2 * j0 + 8);
    b0 = _mm256_loadu_ps(r1 + 2 * j0), b1 = _mm256_loadu_ps(r1 + 2 * j0 + 8);
  } else {
    const __m256i m0 = lanes_mask(2 * count), m1 = lanes_mask(2 * count - 8);
    a0 = _mm256_maskload_ps(r0 + 2 * j0, m0), a1 = _mm256_maskload_ps(r0 + 2 * j0 + 8, m1);
    b0 = _mm256_maskload_ps(r1 + 2 * j0, m0), b1 = _mm256_maskload_ps(r1 + 2 * j0 + 8, m1);
  }
  // Lanes hold outputs j0 + {0, 1, 4, 5, 2, 3, 6, 7}; permute4x64(0xD8) restores the order at the end.
  __m256 best = _mm256_shuffle_ps(a0, a1, 0x88);
  const __m256 cand[3] = {_mm256_shuffle_ps(a0, a1, 0xDD), _mm256_shuffle_ps(b0, b1, 0x88),
                          _mm256_shuffle_ps(b0, b1, 0xDD)};
  __m256i off = _mm256_setzero_si256();
  const int32_t offsets[3] = {1, w, w + 1};
  for (int c = 0; c < 3; ++c) {
    const __m256 v = cand[c];
    const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    best = _mm256_blendv_ps(best, v, take);
    if constexpr (kArgmax)
      off = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(off),
                                                 _mm256_castsi256_ps(_mm256_set1_epi32(offsets[c])), take));
  }
  best = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(best), 0xD8));
  // A partial group goes through a small buffer: masked stores are microcoded (slow) on AMD cores.
  if (count == 8) {
    _mm256_storeu_ps(y + j0, best);
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, best);
    for (int64_t c = 0; c < count; ++c) y[j0 + c] = tmp[c];
  }
  if constexpr (kArgmax) {
    off = _mm256_permute4x64_epi64(off, 0xD8);
    const __m256i cols = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i idx =
        _mm256_add_epi32(_mm256_add_epi32(off, cols), _mm256_set1_epi32(base + int32_t(2 * j0)));
    if (count == 8) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(arg + j0), idx);
    } else {
      alignas(32) int32_t tmp[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), idx);
      for (int64_t c = 0; c < count; ++c) arg[j0 + c] = tmp[c];
    }
  }
}
#endif

template <typename T, bool kArgmax>
void max_pool2d_forward_impl(const Pool2dGeom& g, const T* x, T* y, int32_t* argmax) {
  const bool fast2x2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
                       2 * g.oh <= g.h && 2 * g.ow <= g.w;
  // The vectorised 2x2 path gets through 64k elements in a few microseconds, less than waking a sleeping
  // thread costs (OMP_WAIT_POLICY=passive): a batch-1 feature map stays on the calling thread.
  const int64_t grain =
      fast2x2 ? std::max<int64_t>(1, 65536 / std::max<int64_t>(g.h * g.w, 1)) : plane_grain(g.h * g.w);
  parallel_for(0, g.planes, grain, [&](int64_t lo, int64_t hi) {
    // Spill limits of the vectorised rows: the input end, and the end of this chunk's outputs (the argmax
    // chunk has the same extent).
    [[maybe_unused]] const T* x_end = x + g.planes * g.h * g.w;
    [[maybe_unused]] const T* y_end = y + hi * g.oh * g.ow;
    for (int64_t pl = lo; pl < hi; ++pl) {
      const T* xp = x + pl * g.h * g.w;
      T* yp = y + pl * g.oh * g.ow;
      int32_t* ap = kArgmax ? argmax + pl * g.oh * g.ow : nullptr;
      if (fast2x2) {
        // The common 2x2/2 case: every window is inside the plane.
        for (int64_t i = 0; i < g.oh; ++i) {
          const T* r0 = xp + 2 * i * g.w;
          const T* r1 = r0 + g.w;
          int64_t j = 0;
#ifdef EMBER_POOL_AVX2
          if constexpr (std::is_same_v<T, float>)
            for (; j < g.ow; j += 8)
              max_pool2x2_row8<kArgmax>(r0, r1, j, std::min<int64_t>(8, g.ow - j),
                                        r1 + 2 * j + 16 <= x_end && yp + i * g.ow + j + 8 <= y_end,
                                        int32_t(2 * i * g.w), int32_t(g.w), yp + i * g.ow,
                                        kArgmax ? ap + i * g.ow : nullptr);
#endif
          for (; j < g.ow; ++j) {
            const T v0 = r0[2 * j], v1 = r0[2 * j + 1], v2 = r1[2 * j], v3 = r1[2 * j + 1];
            if constexpr (kArgmax) {
              const int32_t b = int32_t(2 * i * g.w + 2 * j);
              T best = v0;
              int32_t arg = b;
              if (v1 > best || std::isnan(v1)) best = v1, arg = b + 1;
              if (v2 > best || std::isnan(v2)) best = v2, arg = b + int32_t(g.w);
              if (v3 > best || std::isnan(v3)) best = v3, arg = b + int32_t(g.w) + 1;
              yp[i * g.ow + j] = best;
              ap[i * g.ow + j] = arg;
            } else {
              T best = v0;
              if (v1 > best || std::isnan(v1)) best = v1;
              if (v2 > best || std::isnan(v2)) best = v2;
              if (v3 > best || std::isnan(v3)) best = v3;
              yp[i * g.ow + j] = best;
            }
          }
        }
        continue;
      }
      for (int64_t i = 0; i < g.oh; ++i) {
        const int64_t h0 = std::max<int64_t>(i * g.sh - g.ph, 0), h1 = std::min(i * g.sh - g.ph + g.kh, g.h);
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t w0 = std::max<int64_t>(j * g.sw - g.pw, 0),
                        w1 = std::min(j * g.sw - g.pw + g.kw, g.w);
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = h0 * g.w + w0;
          for (int64_t hi = h0; hi < h1; ++hi)
            for (int64_t wi = w0; wi < w1; ++wi) {
              const T v = xp[hi * g.w + wi];
              if (v > best || std::isnan(v)) best = v, arg = hi * g.w + wi;
            }
          yp[i * g.ow + j] = best;
          if constexpr (kArgmax) ap[i * g.ow + j] = int32_t(arg);
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_forward(const Pool2dGeom& g, const T* x, T* y, int32_t* argmax) {
  if (argmax)
    max_pool2d_forward_impl<T, true>(g, x, y, argmax);
  else
    max_pool2d_forward_impl<T, false>(g, x, y, argmax);
}

#ifdef EMBER_POOL_AVX2
// Outputs [0, 4 * (ow / 4)) of one row of the 2x2/2 max-pool backward, 4 windows per step: input rows d0, d1
// get each window's gradient at its argmax (a flat index, base + 2j + {0, 1, w, w + 1}) and 0 elsewhere, as
// the scalar loop writes them. Returns the first output left to the caller.
inline int64_t unpool2_row(const float* gp, const int32_t* ap, int64_t ow, int64_t base, int64_t w, float* d0,
                           float* d1) {
  const __m128i step = _mm_setr_epi32(0, 2, 4, 6), one = _mm_set1_epi32(1), wv = _mm_set1_epi32(int32_t(w)),
                w1 = _mm_set1_epi32(int32_t(w + 1)), zero = _mm_setzero_si128();
  int64_t j = 0;
  for (; j + 4 <= ow; j += 4) {
    const __m128 v = _mm_loadu_ps(gp + j);
    const __m128i a = _mm_sub_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ap + j)),
                                    _mm_add_epi32(_mm_set1_epi32(int32_t(base + 2 * j)), step));
    const __m128 e0 = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(a, zero)));
    const __m128 e1 = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(a, one)));
    const __m128 e2 = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(a, wv)));
    const __m128 e3 = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(a, w1)));
    _mm_storeu_ps(d0 + 2 * j, _mm_unpacklo_ps(e0, e1));
    _mm_storeu_ps(d0 + 2 * j + 4, _mm_unpackhi_ps(e0, e1));
    _mm_storeu_ps(d1 + 2 * j, _mm_unpacklo_ps(e2, e3));
    _mm_storeu_ps(d1 + 2 * j + 4, _mm_unpackhi_ps(e2, e3));
  }
  return j;
}
#endif

template <typename T>
void max_pool2d_backward(const Pool2dGeom& g, const T* dy, const int32_t* argmax, T* dx) {
  const bool fast2x2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
                       2 * g.oh <= g.h && 2 * g.ow <= g.w;
  parallel_for(0, g.planes, plane_grain(g.h * g.w), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      T* dp = dx + pl * g.h * g.w;
      if (fast2x2) {
        // Disjoint 2x2 windows: each input element gets its window's gradient or 0 in one write, instead of
        // zeroing the plane and scattering (one pass over dx instead of two). Rows/columns no window covers
        // (odd sizes) are zeroed.
        const T* gp = dy + pl * g.oh * g.ow;
        const int32_t* ap = argmax + pl * g.oh * g.ow;
        for (int64_t i = 0; i < g.oh; ++i) {
          T* d0 = dp + 2 * i * g.w;
          T* d1 = d0 + g.w;
          const int64_t base = 2 * i * g.w;
          int64_t j = 0;
#ifdef EMBER_POOL_AVX2
          if constexpr (std::is_same_v<T, float>)
            j = unpool2_row(gp + i * g.ow, ap + i * g.ow, g.ow, base, g.w, d0, d1);
#endif
          for (; j < g.ow; ++j) {
            const T v = gp[i * g.ow + j];
            const int64_t a = ap[i * g.ow + j] - base - 2 * j;  // 0, 1, w or w + 1
            d0[2 * j] = a == 0 ? v : T(0);
            d0[2 * j + 1] = a == 1 ? v : T(0);
            d1[2 * j] = a == g.w ? v : T(0);
            d1[2 * j + 1] = a == g.w + 1 ? v : T(0);
          }
          for (int64_t c = 2 * g.ow; c < g.w; ++c) d0[c] = d1[c] = T(0);
        }
        std::fill(dp + 2 * g.oh * g.w, dp + g.h * g.w, T(0));
        continue;
      }
      std::fill(dp, dp + g.h * g.w, T(0));
      const T* gp = dy + pl * g.oh * g.ow;
      const int32_t* ap = argmax + pl * g.oh * g.ow;
      for (int64_t k = 0; k < g.oh * g.ow; ++k) dp[ap[k]] += gp[k];
    }
  });
}

namespace {
// PyTorch's avg-pool window: [start, end) clipped to the input, and the divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1, div;
};
AvgWindow avg_window(const Pool2dGeom& g, bool count_include_pad, int64_t i, int64_t j) {
  int64_t h0 = i * g.sh - g.ph, w0 = j * g.sw - g.pw;
  int64_t h1 = std::min(h0 + g.kh, g.h + g.ph), w1 = std::min(w0 + g.kw, g.w + g.pw);
  const int64_t pool = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.h), w1 = std::min(w1, g.w);
  return {h0, h1, w0, w1, count_include_pad ? pool : (h1 - h0) * (w1 - w0)};
}
int64_t adaptive_start(int64_t i, int64_t in, int64_t out) {
  return (i * in) / out;
}
int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}
}  // namespace

template <typename T>
void avg_pool2d_forward(const Pool2dGeom& g, bool count_include_pad, const T* x, T* y) {
  parallel_for(0, g.planes, plane_grain(g.h * g.w), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const T* xp = x + pl * g.h * g.w;
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          AvgWindow a = avg_window(g, count_include_pad, i, j);
          T s = 0;
          for (int64_t r = a.h0; r < a.h1; ++r)
            for (int64_t c = a.w0; c < a.w1; ++c) s += xp[r * g.w + c];
          y[(pl * g.oh + i) * g.ow + j] = a.div > 0 ? s / T(a.div) : T(0);
        }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const Pool2dGeom& g, bool count_include_pad, const T* dy, T* dx) {
  parallel_for(0, g.planes, plane_grain(g.h * g.w), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      T* dp = dx + pl * g.h * g.w;
      std::fill(dp, dp + g.h * g.w, T(0));
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          AvgWindow a = avg_window(g, count_include_pad, i, j);
          if (a.div <= 0) continue;
          const T v = dy[(pl * g.oh + i) * g.ow + j] / T(a.div);
          for (int64_t r = a.h0; r < a.h1; ++r)
            for (int64_t c = a.w0; c < a.w1; ++c) dp[r * g.w + c] += v;
        }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_forward(const Pool2dGeom& g, const T* x, T* y) {
  parallel_for(0, g.planes, plane_grain(g.h * g.w), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const T* xp = x + pl * g.h * g.w;
      for (int64_t i = 0; i < g.oh; ++i) {
        const int64_t h0 = adaptive_start(i, g.h, g.oh), h1 = adaptive_end(i, g.h, g.oh);
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t w0 = adaptive_start(j, g.w, g.ow), w1 = adaptive_end(j, g.w, g.ow);
          T s = 0;
          for (int64_t r = h0; r < h1; ++r)
            for (int64_t c = w0; c < w1; ++c) s += xp[r * g.w + c];
          y[(pl * g.oh + i) * g.ow + j] = s / T((h1 - h0) * (w1 - w0));
        }
      }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(const Pool2dGeom& g, const T* dy, T* dx) {
  parallel_for(0, g.planes, plane_grain(g.h * g.w), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      T* dp = dx + pl * g.h * g.w;
      std::fill(dp, dp + g.h * g.w, T(0));
      for (int64_t i = 0; i < g.oh; ++i) {
        const int64_t h0 = adaptive_start(i, g.h, g.oh), h1 = adaptive_end(i, g.h, g.oh);
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t w0 = adaptive_start(j, g.w, g.ow), w1 = adaptive_end(j, g.w, g.ow);
          const T v = dy[(pl * g.oh + i) * g.ow + j] / T((h1 - h0) * (w1 - w0));
          for (int64_t r = h0; r < h1; ++r)
            for (int64_t c = w0; c < w1; ++c) dp[r * g.w + c] += v;
        }
      }
    }
  });
}

// Batch norm: channels are split across threads; each channel's statistics come from one pass of sums and
// sums of squares around a shift (the first element), which keeps the float cancellation small.
template <typename T>
void batch_norm_forward(int64_t n, int64_t c, int64_t s, const T* x, const T* w, const T* b, T* y,
                        bool training, double momentum, double eps, T* running_mean, T* running_var, T* mean,
                        T* invstd) {
  const int64_t m = n * s;
  parallel_for(0, c, c * m > (1 << 15) ? 0 : c, [&](int64_t lo, int64_t hi) {
    for (int64_t ch = lo; ch < hi; ++ch) {
      double mu, var;
      if (training) {
        const T shift = m > 0 ? x[ch * s] : T(0);
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* xr = x + (i * c + ch) * s;
          T ps = 0, pq = 0;
          for (int64_t k = 0; k < s; ++k) {
            const T d = xr[k] - shift;
            ps += d;
            pq += d * d;
          }
          sum += ps;
          sq += pq;
        }
        const double dm = sum / m;
        mu = double(shift) + dm;
        var = std::max(0.0, sq / m - dm * dm);
        if (running_mean) running_mean[ch] = T((1 - momentum) * running_mean[ch] + momentum * mu);
        if (running_var)
          running_var[ch] =
              T((1 - momentum) * running_var[ch] + momentum * (m > 1 ? var * m / (m - 1) : var));
      } else {
        mu = running_mean[ch];
        var = running_var[ch];
      }
      const double is = 1.0 / std::sqrt(var + eps);
      mean[ch] = T(mu);
      invstd[ch] = T(is);
      const T scale = T((w ? double(w[ch]) : 1.0) * is);
      const T off = T((b ? double(b[ch]) : 0.0) - mu * (w ? double(w[ch]) : 1.0) * is);
      for (int64_t i = 0; i < n; ++i) {
        const T* xr = x + (i * c + ch) * s;
        T* yr = y + (i * c + ch) * s;
        for (int64_t k = 0; k < s; ++k) yr[k] = xr[k] * scale + off;
      }
    }
  });
}

template <typename T>
void batch_norm_backward(int64_t n, int64_t c, int64_t s, const T* x, const T* dy, const T* w, const T* mean,
                         const T* invstd, bool training, T* dx, T* dw, T* db) {
  const int64_t m = n * s;
  parallel_for(0, c, c * m > (1 << 15) ? 0 : c, [&](int64_t lo, int64_t hi) {
    for (int64_t ch = lo; ch < hi; ++ch) {
      const T mu = mean[ch];
      double sdy = 0, sdyx = 0;  // sum(dy), sum(dy * (x - mean))
      for (int64_t i = 0; i < n; ++i) {
        const T* xr = x + (i * c + ch) * s;
        const T* gr = dy + (i * c + ch) * s;
        T a = 0, bsum = 0;
        for (int64_t k = 0; k < s; ++k) {
          a += gr[k];
          bsum += gr[k] * (xr[k] - mu);
        }
        sdy += a;
        sdyx += bsum;
      }
      const double is = invstd[ch];
      if (dw) dw[ch] = T(sdyx * is);
      if (db) db[ch] = T(sdy);
      if (!dx) continue;
      const double scale = (w ? double(w[ch]) : 1.0) * is;
      // dx = scale * (dy - mean(dy) - (x - mu) * is^2 * mean(dy * (x - mu)))
      const T k1 = T(scale), k0 = training ? T(-scale * sdy / m) : T(0);
      const T kx = training ? T(-scale * is * is * sdyx / m) : T(0);
      for (int64_t i = 0; i < n; ++i) {
        const T* xr = x + (i * c + ch) * s;
        const T* gr = dy + (i * c + ch) * s;
        T* dr = dx + (i * c + ch) * s;
        for (int64_t k = 0; k < s; ++k) dr[k] = k1 * gr[k] + k0 + kx * (xr[k] - mu);
      }
    }
  });
}

template <typename T>
void layer_norm_forward(int64_t rows, int64_t d, const T* x, const T* w, const T* b, double eps, T* y,
                        T* mean, T* rstd) {
  parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * d;
      double sum = 0;
      for (int64_t k = 0; k < d; ++k) sum += xr[k];
      const double mu = sum / d;
      double sq = 0;
      for (int64_t k = 0; k < d; ++k) sq += (xr[k] - mu) * (xr[k] - mu);
      const double is = 1.0 / std::sqrt(sq / d + eps);
      mean[r] = T(mu);
      rstd[r] = T(is);
      T* yr = y + r * d;
      for (int64_t k = 0; k < d; ++k) {
        const T xh = T((xr[k] - mu) * is);
        yr[k] = (w ? xh * w[k] : xh) + (b ? b[k] : T(0));
      }
    }
  });
}

// dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat)) with gx = dy * w; dw, db summed over rows serially
// (rows in order, so deterministic).
template <typename T>
void layer_norm_backward(int64_t rows, int64_t d, const T* x, const T* dy, const T* w, const T* mean,
                         const T* rstd, T* dx, T* dw, T* db) {
  if (dx)
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* xr = x + r * d;
        const T* gr = dy + r * d;
        const double mu = mean[r], is = rstd[r];
        double a = 0, bb = 0;
        for (int64_t k = 0; k < d; ++k) {
          const double gx = double(gr[k]) * (w ? double(w[k]) : 1.0);
          a += gx;
          bb += gx * (xr[k] - mu) * is;
        }
        a /= d;
        bb /= d;
        T* dr = dx + r * d;
        for (int64_t k = 0; k < d; ++k) {
          const double gx = double(gr[k]) * (w ? double(w[k]) : 1.0);
          dr[k] = T(is * (gx - a - (xr[k] - mu) * is * bb));
        }
      }
    });
  if (dw || db) {
    std::vector<double> sw(dw ? d : 0, 0.0), sb(db ? d : 0, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * d;
      const T* gr = dy + r * d;
      const double mu = mean[r], is = rstd[r];
      for (int64_t k = 0; k < d; ++k) {
        if (dw) sw[k] += double(gr[k]) * (xr[k] - mu) * is;
        if (db) sb[k] += gr[k];
      }
    }
    for (int64_t k = 0; k < d; ++k) {
      if (dw) dw[k] = T(sw[k]);
      if (db) db[k] = T(sb[k]);
    }
  }
}

#define EMBER_INSTANTIATE_POOL_NORM(T)                                                                     \
  template void max_pool2d_forward<T>(const Pool2dGeom&, const T*, T*, int32_t*);                          \
  template void max_pool2d_backward<T>(const Pool2dGeom&, const T*, const int32_t*, T*);                   \
  template void avg_pool2d_forward<T>(const Pool2dGeom&, bool, const T*, T*);                              \
  template void avg_pool2d_backward<T>(const Pool2dGeom&, bool, const T*, T*);                             \
  template void adaptive_avg_pool2d_forward<T>(const Pool2dGeom&, const T*, T*);                           \
  template void adaptive_avg_pool2d_backward<T>(const Pool2dGeom&, const T*, T*);                          \
  template void batch_norm_forward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, bool,   \
                                      double, double, T*, T*, T*, T*);                                     \
  template void batch_norm_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, const T*,  \
                                       const T*, bool, T*, T*, T*);                                        \
  template void layer_norm_forward<T>(int64_t, int64_t, const T*, const T*, const T*, double, T*, T*, T*); \
  template void layer_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, const T*, \
                                       T*, T*, T*);
EMBER_INSTANTIATE_POOL_NORM(float)
EMBER_INSTANTIATE_POOL_NORM(double)

}  // namespace ember::kernels
