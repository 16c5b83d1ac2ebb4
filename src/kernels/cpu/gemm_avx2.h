// Private to src/kernels/cpu: the AVX2/FMA pieces shared by the convolution kernels (conv_gemm.cpp,
// conv_winograd.cpp): the 6x16 GEMM micro-kernel, reusable aligned buffers, 8x8 transposes and the NCHW ->
// padded NHWC copy. Only included when the compiler targets AVX2 and FMA.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ember/kernels/conv.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels::avx2_gemm {

constexpr int64_t MR = 6, NR = 16;

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// A growable 64-byte aligned float buffer, reused across calls (fresh pages are expensive to touch).
struct Buf {
  std::vector<float> v;
  float* get(int64_t n) {
    if (int64_t(v.size()) < n + 16) v.resize(size_t(n + 16));
    auto p = reinterpret_cast<uintptr_t>(v.data());
    return v.data() + ((64 - p % 64) % 64) / sizeof(float);
  }
};

// One 6x16 block of C in registers: v[2*r], v[2*r+1] hold row r.
struct Tile {
  __m256 v[12];
};

// Row addressing of the A operand: element (k, r) at arow(k)[r * arow.ar].
struct PackedA {  // packed slivers: k-major, 6 values per k
  const float* a;
  static constexpr int64_t ar = 1;
  const float* operator()(int64_t k) const { return a + k * MR; }
};
struct StridedA {  // any layout: element (k, r) at a + k*ak + r*ar
  const float* a;
  int64_t ak, ar;
  const float* operator()(int64_t k) const { return a + k * ak; }
};
// Row addressing of the B operand: row k (16 floats) at brow(k).
struct PackedRows {  // packed slivers, row k at b + 16k
  const float* b;
  const float* operator()(int64_t k) const { return b + k * NR; }
};
struct StridedRows {  // row k at b + k*ld
  const float* b;
  int64_t ld;
  const float* operator()(int64_t k) const { return b + k * ld; }
};
struct IndexedRows {  // rows read in place through an offset table
  const float* bb;
  const int64_t* boff;
  const float* operator()(int64_t k) const { return bb + boff[k]; }
};

// t = sum over k < kc of A row k (6 values) (x) B row k (16 floats). Not inlined: inside the callers'
// loops GCC ran out of ymm registers and spilled an accumulator. The 12 accumulators take 12 FMAs per
// 2 loads + 6 broadcasts, which the 2 FMA pipes of a Zen 3 core sustain from L1/L2 (unaligned loads of
// aligned data cost the same as aligned ones).
template <typename ARow, typename BRow>
__attribute__((always_inline)) inline void micro_6x16_body(int64_t kc, ARow arow, BRow brow, Tile& t) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
         c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const int64_t ar = arow.ar;
#define EMBER_MK_STEP(K)                                                 \
  {                                                                      \
    const float* A = arow(K);                                            \
    const float* bk = brow(K);                                           \
    const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8); \
    __m256 av = _mm256_broadcast_ss(A);                                  \
    c00 = _mm256_fmadd_ps(av, b0, c00);                                  \
    c01 = _mm256_fmadd_ps(av, b1, c01);                                  \
    av = _mm256_broadcast_ss(A + ar);                                    \
    c10 = _mm256_fmadd_ps(av, b0, c10);                                  \
    c11 = _mm256_fmadd_ps(av, b1, c11);                                  \
    av = _mm256_broadcast_ss(A + 2 * ar);                                \
    c20 = _mm256_fmadd_ps(av, b0, c20);                                  \
    c21 = _mm256_fmadd_ps(av, b1, c21);                                  \
    av = _mm256_broadcast_ss(A + 3 * ar);                                \
    c30 = _mm256_fmadd_ps(av, b0, c30);                                  \
    c31 = _mm256_fmadd_ps(av, b1, c31);                                  \
    av = _mm256_broadcast_ss(A + 4 * ar);                                \
    c40 = _mm256_fmadd_ps(av, b0, c40);                                  \
    c41 = _mm256_fmadd_ps(av, b1, c41);                                  \
    av = _mm256_broadcast_ss(A + 5 * ar);                                \
    c50 = _mm256_fmadd_ps(av, b0, c50);                                  \
    c51 = _mm256_fmadd_ps(av, b1, c51);                                  \
  }
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    EMBER_MK_STEP(k)
    EMBER_MK_STEP(k + 1)
    EMBER_MK_STEP(k + 2)
    EMBER_MK_STEP(k + 3)
  }
  for (; k < kc; ++k) EMBER_MK_STEP(k)
#undef EMBER_MK_STEP
  t.v[0] = c00, t.v[1] = c01, t.v[2] = c10, t.v[3] = c11, t.v[4] = c20, t.v[5] = c21;
  t.v[6] = c30, t.v[7] = c31, t.v[8] = c40, t.v[9] = c41, t.v[10] = c50, t.v[11] = c51;
}

template <typename ARow, typename BRow>
__attribute__((noinline)) void micro_6x16_rows(int64_t kc, ARow arow, BRow brow, Tile& t) {
  micro_6x16_body(kc, arow, brow, t);
}

// Both operands strided (element (k, r) of A at a + k*ak + r*ar, row k of B at b + k*ldb), with every
// argument in a register (a struct passed by value went through the stack and stalled store forwarding).
__attribute__((noinline)) inline void micro_6x16_strided(int64_t kc, const float* a, int64_t ak, int64_t ar,
                                                         const float* b, int64_t ldb, Tile& t) {
  micro_6x16_body(kc, StridedA{a, ak, ar}, StridedRows{b, ldb}, t);
}

// Stores a tile into row-major C (ldc), adding to what is there unless overwrite.
inline void store_tile(const Tile& t, float* c, int64_t ldc, bool overwrite) {
  for (int r = 0; r < 6; ++r) {
    __m256 v0 = t.v[2 * r], v1 = t.v[2 * r + 1];
    if (!overwrite) {
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(c + r * ldc));
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(c + r * ldc + 8));
    }
    _mm256_storeu_ps(c + r * ldc, v0);
    _mm256_storeu_ps(c + r * ldc + 8, v1);
  }
}

inline void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5, __m256& r6,
                       __m256& r7) {
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
         t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
         t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
         s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
         s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
         s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r0 = _mm256_permute2f128_ps(s0, s4, 0x20);
  r1 = _mm256_permute2f128_ps(s1, s5, 0x20);
  r2 = _mm256_permute2f128_ps(s2, s6, 0x20);
  r3 = _mm256_permute2f128_ps(s3, s7, 0x20);
  r4 = _mm256_permute2f128_ps(s0, s4, 0x31);
  r5 = _mm256_permute2f128_ps(s1, s5, 0x31);
  r6 = _mm256_permute2f128_ps(s2, s6, 0x31);
  r7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Images [n0, n1) of thread t out of nt.
inline void thread_images(int64_t n, int64_t t, int64_t nt, int64_t& n0, int64_t& n1) {
  n0 = n * t / nt;
  n1 = n * (t + 1) / nt;
}

// Per-thread partial sums of a weight gradient (w[t]: nw floats) and of its bias gradient (b[t]: nb doubles,
// zeroed), for weight-gradient kernels that split images over threads and add the partials in thread order.
// The buffers belong to the calling thread and are reused across calls.
struct ThreadPartials {
  std::vector<float*> w;
  std::vector<std::vector<double>>* b = nullptr;

  ThreadPartials(int64_t nt, int64_t nw, int64_t nb) {
    thread_local std::vector<Buf> wbuf;
    thread_local std::vector<std::vector<double>> bsum;
    wbuf.resize(size_t(nt));
    bsum.resize(size_t(nt));
    b = &bsum;
    for (int64_t t = 0; t < nt; ++t) {
      w.push_back(wbuf[size_t(t)].get(nw));
      bsum[size_t(t)].assign(size_t(nb), 0.0);
    }
  }
  std::vector<double>& bias(int64_t t) const { return (*b)[size_t(t)]; }
  // db[o] = the sum over threads of the bias partials, in thread order.
  void sum_bias(int64_t nb, float* db) const {
    for (int64_t o = 0; o < nb; ++o) {
      double sv = 0;
      for (const auto& bt : *b) sv += bt[size_t(o)];
      db[o] = float(sv);
    }
  }
};

// Runs f(t) for t in [0, nt) on the OpenMP threads, one t per thread.
template <typename F>
void for_threads(int64_t nt, F&& f) {
  parallel_for(0, nt, 0, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) f(t);
  });
}

// NHWC copy of images [0, cnt) at x into xt: (h + pt + pb) x (w + pl + pr) pixels of cp floats (channels
// padded to a multiple of 16), zero outside the image, through 8x8 transposes.
inline void to_nhwc(const Conv2dGeom& g, const float* x, int64_t cnt, int64_t cp, float* xt) {
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr, hw = g.h * g.w;
  // Padding channels: every pixel has zeros to write, so the whole copy is cleared first; otherwise only the
  // border (the copy below writes every other float).
  const bool clear_all = cp != g.c;
  if (clear_all) std::fill(xt, xt + cnt * hp * wp * cp, 0.f);
  for (int64_t l = 0; l < cnt; ++l) {
    const float* xn = x + l * g.c * hw;
    float* xl = xt + l * hp * wp * cp;
    if (!clear_all) {
      std::fill(xl, xl + g.pt * wp * cp, 0.f);
      std::fill(xl + (g.pt + g.h) * wp * cp, xl + hp * wp * cp, 0.f);
    }
    for (int64_t hin = 0; hin < g.h; ++hin) {
      float* row = xl + ((hin + g.pt) * wp + g.pl) * cp;
      if (!clear_all) {
        std::fill(row - g.pl * cp, row, 0.f);
        std::fill(row + g.w * cp, row + (g.w + g.pr) * cp, 0.f);
      }
      if (g.c < 8 || g.w < 8) {
        for (int64_t c = 0; c < g.c; ++c)
          for (int64_t win = 0; win < g.w; ++win) row[win * cp + c] = xn[c * hw + hin * g.w + win];
        continue;
      }
      // Chunks of 8 channels x 8 columns; the last chunk of each overlaps the previous one (same values).
      for (int64_t c0 = 0; c0 < g.c; c0 += 8) {
        const int64_t cc = std::min(c0, g.c - 8);
        for (int64_t w0 = 0; w0 < g.w; w0 += 8) {
          const int64_t ww = std::min(w0, g.w - 8);
          const float* s = xn + cc * hw + hin * g.w + ww;
          __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + hw), r2 = _mm256_loadu_ps(s + 2 * hw),
                 r3 = _mm256_loadu_ps(s + 3 * hw), r4 = _mm256_loadu_ps(s + 4 * hw),
                 r5 = _mm256_loadu_ps(s + 5 * hw), r6 = _mm256_loadu_ps(s + 6 * hw),
                 r7 = _mm256_loadu_ps(s + 7 * hw);
          transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
          float* d = row + ww * cp + cc;
          _mm256_storeu_ps(d, r0), _mm256_storeu_ps(d + cp, r1), _mm256_storeu_ps(d + 2 * cp, r2);
          _mm256_storeu_ps(d + 3 * cp, r3), _mm256_storeu_ps(d + 4 * cp, r4),
              _mm256_storeu_ps(d + 5 * cp, r5);
          _mm256_storeu_ps(d + 6 * cp, r6), _mm256_storeu_ps(d + 7 * cp, r7);
        }
      }
    }
  }
}

// The inverse of to_nhwc for one image: x (c, h, w) = the part of xt (NHWC, (h + pt + pb) x (w + pl + pr)
// pixels of cp floats) that lies inside the padding.
inline void from_nhwc(const Conv2dGeom& g, const float* xt, int64_t cp, float* x) {
  const int64_t wp = g.w + g.pl + g.pr, hw = g.h * g.w;
  for (int64_t hin = 0; hin < g.h; ++hin) {
    const float* row = xt + ((hin + g.pt) * wp + g.pl) * cp;
    float* xr = x + hin * g.w;
    if (g.c < 8 || g.w < 8) {
      for (int64_t c = 0; c < g.c; ++c)
        for (int64_t win = 0; win < g.w; ++win) xr[c * hw + win] = row[win * cp + c];
      continue;
    }
    // Chunks of 8 columns x 8 channels; the last chunk of each overlaps the previous one (same values).
    for (int64_t c0 = 0; c0 < g.c; c0 += 8) {
      const int64_t cc = std::min(c0, g.c - 8);
      for (int64_t w0 = 0; w0 < g.w; w0 += 8) {
        const int64_t ww = std::min(w0, g.w - 8);
        const float* s = row + ww * cp + cc;
        __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + cp), r2 = _mm256_loadu_ps(s + 2 * cp),
               r3 = _mm256_loadu_ps(s + 3 * cp), r4 = _mm256_loadu_ps(s + 4 * cp),
               r5 = _mm256_loadu_ps(s + 5 * cp), r6 = _mm256_loadu_ps(s + 6 * cp),
               r7 = _mm256_loadu_ps(s + 7 * cp);
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        float* d = xr + cc * hw + ww;
        _mm256_storeu_ps(d, r0), _mm256_storeu_ps(d + hw, r1), _mm256_storeu_ps(d + 2 * hw, r2);
        _mm256_storeu_ps(d + 3 * hw, r3), _mm256_storeu_ps(d + 4 * hw, r4), _mm256_storeu_ps(d + 5 * hw, r5);
        _mm256_storeu_ps(d + 6 * hw, r6), _mm256_storeu_ps(d + 7 * hw, r7);
      }
    }
  }
}

}  // namespace ember::kernels::avx2_gemm
