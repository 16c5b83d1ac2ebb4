// Direct AVX2 convolution for few input channels (the first layer of an image model: 1-4 channels, stride 1,
// no dilation, one group). oneDNN's kernels spend most of their time on layout work for such layers (a
// 1-channel 3x3 conv ran at 5-6 GFLOP/s through oneDNN's gemm path and needed reorders on the blocked one);
// here the arithmetic dominates.
//
// The trick that makes both passes plain vector loops: the input image is copied, zero-padded, into a buffer
// of width Wp = w + pl + pr, and outputs are computed on the same width-Wp grid. Output (i, j) then sits at
// t = i * Wp + j and reads input t + (c * Hp + p) * Wp + q for tap (c, p, q): a fixed offset per tap, so a
// vector of 8 consecutive t needs one unaligned load per tap. Grid columns j >= ow are computed (forward) and
// dropped when the rows are copied out, or zero (weight gradient). Extra cost: (Wp - ow) / Wp of the work.
//
// Forward: 4 output channels x 16 grid positions per register block (8 accumulators), bias and ReLU fused.
// Weight gradient: per (image, output channel), every tap is a dot product of the output-gradient grid with a
// shifted input window; up to 12 taps share one pass over the gradient. Sums go to double per image, images
// in order, and each output channel belongs to one thread, so the result does not depend on the thread count.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ember/kernels/conv.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

namespace {

constexpr int64_t kMaxChannels = 4;  // input channels handled here
constexpr int64_t kOB = 4;           // output channels per forward register block
constexpr int64_t kTB = 16;          // grid positions per forward register block (2 vectors)
constexpr int64_t kTapChunk = 12;    // taps per weight-gradient pass (12 accumulators)

// AVX2+FMA present, and the path not switched off by EMBER_CONV_NO_DIRECT (for A/B measurements).
bool direct_enabled() {
  static const bool ok =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !std::getenv("EMBER_CONV_NO_DIRECT");
  return ok;
}

// Tail mask for 0 < r < 8 lanes.
__attribute__((target("avx2,fma"))) inline __m256i tail_mask(int64_t r) {
  alignas(32) static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + 8 - r));
}

// dst[0, n) = src[0, n) (rows are short: a call to memcpy per row cost more than the arithmetic).
__attribute__((target("avx2,fma"))) inline void copy_row(float* dst, const float* src, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(src + j));
  if (j < n) {
    const __m256i m = tail_mask(n - j);
    _mm256_maskstore_ps(dst + j, m, _mm256_maskload_ps(src + j, m));
  }
}

// dst[j] = mask[j] > 0 ? src[j] : 0 for j < n.
__attribute__((target("avx2,fma"))) inline void copy_row_masked(float* dst, const float* src,
                                                                const float* mask, int64_t n) {
  const __m256 z = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(dst + j, _mm256_and_ps(_mm256_loadu_ps(src + j),
                                            _mm256_cmp_ps(_mm256_loadu_ps(mask + j), z, _CMP_GT_OQ)));
  if (j < n) {
    const __m256i m = tail_mask(n - j);
    const __m256 v = _mm256_and_ps(_mm256_maskload_ps(src + j, m),
                                   _mm256_cmp_ps(_mm256_maskload_ps(mask + j, m), z, _CMP_GT_OQ));
    _mm256_maskstore_ps(dst + j, m, v);
  }
}

struct Grid {
  int64_t wp, hp, plane;  // padded width/height, padded plane size
  int64_t t;              // grid positions holding outputs: oh * wp
  int64_t tr;             // t rounded up to the block size
  int64_t xp_size;        // padded input buffer (all channels) incl. slack for the last block's reads
};

Grid grid_of(const Conv2dGeom& g) {
  Grid r;
  r.wp = g.w + g.pl + g.pr;
  r.hp = g.h + g.pt + g.pb;
  r.plane = r.wp * r.hp;
  r.t = g.oh * r.wp;
  r.tr = (r.t + kTB - 1) / kTB * kTB;
  // The last block reads up to (c-1)*plane + tr-1 + (kh-1)*wp + kw-1 < c*plane + (tr - t) + kw.
  r.xp_size = g.c * r.plane + (r.tr - r.t) + g.kw + 8;
  return r;
}

// Copies image n's channels into xp with the zero border (xp was zero-filled once for this geometry; only the
// interior is rewritten, so the border and slack stay zero).
void fill_padded(const Conv2dGeom& g, const Grid& gr, const float* x, int64_t n, float* xp) {
  for (int64_t c = 0; c < g.c; ++c) {
    const float* src = x + (n * g.c + c) * g.h * g.w;
    float* dst = xp + c * gr.plane + g.pt * gr.wp + g.pl;
    for (int64_t i = 0; i < g.h; ++i) copy_row(dst + i * gr.wp, src + i * g.w, g.w);
  }
}

// A thread's padded-input buffer, zeroed when the geometry changes.
float* padded_buffer(const Conv2dGeom& g, const Grid& gr) {
  thread_local std::vector<float> buf;
  thread_local int64_t key[6] = {-1, -1, -1, -1, -1, -1};
  const int64_t k[6] = {g.c, g.h, g.w, g.pt * 1000003 + g.pb, g.pl * 1000003 + g.pr, gr.xp_size};
  if (!std::equal(k, k + 6, key) || buf.size() < size_t(gr.xp_size)) {
    buf.assign(size_t(gr.xp_size), 0.f);
    std::copy(k, k + 6, key);
  }
  return buf.data();
}

__attribute__((target("avx2,fma"))) void forward_block(const float* xp, const int64_t* off, int64_t taps,
                                                       const float* wpk, const float* bias4, bool relu,
                                                       int64_t tr, float* grid) {
  for (int64_t t0 = 0; t0 < tr; t0 += kTB) {
    __m256 a00 = _mm256_broadcast_ss(bias4 + 0), a01 = a00;
    __m256 a10 = _mm256_broadcast_ss(bias4 + 1), a11 = a10;
    __m256 a20 = _mm256_broadcast_ss(bias4 + 2), a21 = a20;
    __m256 a30 = _mm256_broadcast_ss(bias4 + 3), a31 = a30;
    const float* xb = xp + t0;
    for (int64_t k = 0; k < taps; ++k) {
      const float* xs = xb + off[k];
      const __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8);
      const float* wk = wpk + k * kOB;
      __m256 w = _mm256_broadcast_ss(wk + 0);
      a00 = _mm256_fmadd_ps(w, x0, a00);
      a01 = _mm256_fmadd_ps(w, x1, a01);
      w = _mm256_broadcast_ss(wk + 1);
      a10 = _mm256_fmadd_ps(w, x0, a10);
      a11 = _mm256_fmadd_ps(w, x1, a11);
      w = _mm256_broadcast_ss(wk + 2);
      a20 = _mm256_fmadd_ps(w, x0, a20);
      a21 = _mm256_fmadd_ps(w, x1, a21);
      w = _mm256_broadcast_ss(wk + 3);
      a30 = _mm256_fmadd_ps(w, x0, a30);
      a31 = _mm256_fmadd_ps(w, x1, a31);
    }
    if (relu) {
      const __m256 z = _mm256_setzero_ps();
      a00 = _mm256_max_ps(a00, z), a01 = _mm256_max_ps(a01, z), a10 = _mm256_max_ps(a10, z);
      a11 = _mm256_max_ps(a11, z), a20 = _mm256_max_ps(a20, z), a21 = _mm256_max_ps(a21, z);
      a30 = _mm256_max_ps(a30, z), a31 = _mm256_max_ps(a31, z);
    }
    _mm256_storeu_ps(grid + 0 * tr + t0, a00);
    _mm256_storeu_ps(grid + 0 * tr + t0 + 8, a01);
    _mm256_storeu_ps(grid + 1 * tr + t0, a10);
    _mm256_storeu_ps(grid + 1 * tr + t0 + 8, a11);
    _mm256_storeu_ps(grid + 2 * tr + t0, a20);
    _mm256_storeu_ps(grid + 2 * tr + t0 + 8, a21);
    _mm256_storeu_ps(grid + 3 * tr + t0, a30);
    _mm256_storeu_ps(grid + 3 * tr + t0 + 8, a31);
  }
}

inline float hsum(__m256 v) __attribute__((target("avx2,fma")));
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// out[k] = sum_t dyg[t] * xp[t + off[k]] for k < nk (<= kTapChunk), t over [0, tr) in steps of 8.
template <int NK>
__attribute__((target("avx2,fma"))) void tap_dots(const float* dyg, const float* xp, const int64_t* off,
                                                  int64_t tr, double* out) {
  __m256 acc[NK];
  for (int k = 0; k < NK; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t t = 0; t < tr; t += 8) {
    const __m256 d = _mm256_loadu_ps(dyg + t);
    for (int k = 0; k < NK; ++k) acc[k] = _mm256_fmadd_ps(d, _mm256_loadu_ps(xp + t + off[k]), acc[k]);
  }
  for (int k = 0; k < NK; ++k) out[k] += double(hsum(acc[k]));
}

using TapDots = void (*)(const float*, const float*, const int64_t*, int64_t, double*);
const TapDots kTapDots[kTapChunk + 1] = {nullptr,      tap_dots<1>,  tap_dots<2>, tap_dots<3>, tap_dots<4>,
                                         tap_dots<5>,  tap_dots<6>,  tap_dots<7>, tap_dots<8>, tap_dots<9>,
                                         tap_dots<10>, tap_dots<11>, tap_dots<12>};

// Sum of dyg[0, tr) (8-lane partial sums, then one horizontal add).
__attribute__((target("avx2,fma"))) double grid_sum(const float* dyg, int64_t tr) {
  __m256 s = _mm256_setzero_ps();
  for (int64_t t = 0; t < tr; t += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(dyg + t));
  return double(hsum(s));
}

std::vector<int64_t> tap_offsets(const Conv2dGeom& g, const Grid& gr) {
  std::vector<int64_t> off;
  off.reserve(size_t(g.c * g.kh * g.kw));
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t p = 0; p < g.kh; ++p)
      for (int64_t q = 0; q < g.kw; ++q) off.push_back(c * gr.plane + p * gr.wp + q);
  return off;
}

// 2x2 stride-2 max pooling of one grid plane (row stride wp) into y (ph x pw) with the window index of each
// maximum (2 * row + column; the first maximum in row-major order, a NaN wins like PyTorch); ReLU after.
// Eight outputs at a time: the even and odd columns of both rows are the four window candidates.
__attribute__((target("avx2,fma"))) void pool2_plane(const float* src, int64_t wp, int64_t ph, int64_t pw,
                                                     bool relu, float* y, uint8_t* arg) {
  const __m256 zero = _mm256_setzero_ps();
  auto take = [](__m256& best, __m256& idx, __m256 cand, float k) {
    const __m256 better = _mm256_or_ps(
        _mm256_cmp_ps(cand, best, _CMP_GT_OQ),
        _mm256_and_ps(_mm256_cmp_ps(cand, cand, _CMP_UNORD_Q), _mm256_cmp_ps(best, best, _CMP_ORD_Q)));
    best = _mm256_blendv_ps(best, cand, better);
    idx = _mm256_blendv_ps(idx, _mm256_set1_ps(k), better);
  };
  for (int64_t i2 = 0; i2 < ph; ++i2) {
    const float* r0 = src + 2 * i2 * wp;
    const float* r1 = r0 + wp;
    float* yr = y + i2 * pw;
    uint8_t* ar = arg + i2 * pw;
    // Blocks of 8 outputs; the last one overlaps the previous when pw is not a multiple of 8 (the same values
    // are written twice). Rows shorter than 8 go through the scalar loop.
    if (pw >= 8) {
      for (int64_t jb = 0; jb < pw; jb += 8) {
        const int64_t j = std::min(jb, pw - 8);
        const __m256 a0 = _mm256_loadu_ps(r0 + 2 * j), a1 = _mm256_loadu_ps(r0 + 2 * j + 8);
        const __m256 b0 = _mm256_loadu_ps(r1 + 2 * j), b1 = _mm256_loadu_ps(r1 + 2 * j + 8);
        // shuffle_ps gives [x0 x2 y0 y2 | x4 x6 y4 y6]; the 64-bit permute puts them in column order.
        const __m256 e0 = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 o0 = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 e1 = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 o1 = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
        __m256 best = e0, idx = zero;
        take(best, idx, o0, 1.f);
        take(best, idx, e1, 2.f);
        take(best, idx, o1, 3.f);
        if (relu) best = _mm256_max_ps(zero, best);  // max_ps returns its second operand for a NaN
        _mm256_storeu_ps(yr + j, best);
        const __m256i iv = _mm256_cvttps_epi32(idx);
        const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(iv), _mm256_extracti128_si256(iv, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(ar + j), _mm_packus_epi16(p16, p16));
      }
      continue;
    }
    for (int64_t j2 = 0; j2 < pw; ++j2) {
      const float c[4] = {r0[2 * j2], r0[2 * j2 + 1], r1[2 * j2], r1[2 * j2 + 1]};
      float best = c[0];
      uint8_t k = 0;
      for (uint8_t t = 1; t < 4; ++t)
        if (c[t] > best || (c[t] != c[t] && best == best)) best = c[t], k = t;
      if (relu && best < 0.f) best = 0.f;
      yr[j2] = best;
      ar[j2] = k;
    }
  }
}

// The inverse of pool2_plane for the gradient: writes the pooled gradient d (ph x pw, masked by m > 0 when m
// is given) at each window's argmax into the two grid rows of the window and zero at the other three places.
// Grid places outside the pooled area are never written (they stay zero).
__attribute__((target("avx2,fma"))) void unpool2_plane(const float* d, const float* m, const uint8_t* a,
                                                       int64_t ph, int64_t pw, int64_t wp, float* grid) {
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t i2 = 0; i2 < ph; ++i2) {
    const float* dr = d + i2 * pw;
    const float* mr = m ? m + i2 * pw : nullptr;
    const uint8_t* ar = a + i2 * pw;
    float* g[2] = {grid + 2 * i2 * wp, grid + (2 * i2 + 1) * wp};
    if (pw >= 8) {
      for (int64_t jb = 0; jb < pw; jb += 8) {
        const int64_t j = std::min(jb, pw - 8);  // the last block may overlap: same values again
        __m256 v = _mm256_loadu_ps(dr + j);
        if (mr) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(mr + j), zero, _CMP_GT_OQ));
        const __m256i ai = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ar + j)));
        for (int di = 0; di < 2; ++di) {
          const __m256 e =
              _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(ai, _mm256_set1_epi32(2 * di))));
          const __m256 o =
              _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(ai, _mm256_set1_epi32(2 * di + 1))));
          const __m256 lo = _mm256_unpacklo_ps(e, o),
                       hi = _mm256_unpackhi_ps(e, o);  // [e0 o0 e1 o1 | e4 o4 ..]
          _mm256_storeu_ps(g[di] + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
          _mm256_storeu_ps(g[di] + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        }
      }
      continue;
    }
    for (int64_t j2 = 0; j2 < pw; ++j2) {
      const float v = mr && !(mr[j2] > 0.f) ? 0.f : dr[j2];
      for (int k = 0; k < 4; ++k) g[k >> 1][2 * j2 + (k & 1)] = ar[j2] == k ? v : 0.f;
    }
  }
}

}  // namespace

bool conv2d_direct_supported(const Conv2dGeom& g) {
  return g.groups == 1 && g.c <= kMaxChannels && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.kh * g.kw <= 64 && g.n > 0 && g.oh > 0 && g.ow > 0 && direct_enabled();
}

namespace {

// The forward convolution over every (image, block of 4 output channels) item, split over the threads;
// emit(n, ob, grid) receives the 4 output planes of a block on the width-wp grid (kOB planes of tr floats) to
// write out. A thread refills its padded input only when the image changes.
template <typename Emit>
void forward_blocks(const Conv2dGeom& g, const Grid& gr, const float* x, const float* w, const float* b,
                    bool relu, Emit&& emit) {
  const int64_t taps = g.c * g.kh * g.kw, nob = (g.o + kOB - 1) / kOB;
  const std::vector<int64_t> off = tap_offsets(g, gr);
  // Weights packed per block of 4 output channels: wpk[ob][tap][4] (zero for channels past o); bias likewise.
  thread_local std::vector<float> wpk, bpk;
  wpk.assign(size_t(nob * taps * kOB), 0.f);
  bpk.assign(size_t(nob * kOB), 0.f);
  for (int64_t o = 0; o < g.o; ++o) {
    for (int64_t k = 0; k < taps; ++k) wpk[size_t(((o / kOB) * taps + k) * kOB + o % kOB)] = w[o * taps + k];
    if (b) bpk[size_t(o)] = b[o];
  }
  const float* wp = wpk.data();
  const float* bp = bpk.data();
  const int64_t items = g.n * nob;
  // Items below ~128K multiply-adds stay on this thread; from there (a batch-1 first layer: 1->32 channels on
  // 28x28 is 210K, ~10 µs) parallel_for splits them, on two threads over split_run's spinning helper.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 17) / std::max<int64_t>(1, kOB * gr.tr * taps));
  parallel_for(0, items, grain, [&](int64_t lo, int64_t hi) {
    float* xp = padded_buffer(g, gr);
    thread_local std::vector<float> grid;
    grid.resize(size_t(kOB * gr.tr));
    int64_t filled = -1;
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t n = it / nob, ob = it % nob;
      if (n != filled) {
        fill_padded(g, gr, x, n, xp);
        filled = n;
      }
      forward_block(xp, off.data(), taps, wp + ob * taps * kOB, bp + ob * kOB, relu, gr.tr, grid.data());
      emit(n, ob, grid.data());
    }
  });
}

}  // namespace

bool conv2d_forward_direct(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y,
                           bool relu) {
  if (!conv2d_direct_supported(g)) return false;
  const Grid gr = grid_of(g);
  const int64_t ohw = g.oh * g.ow;
  forward_blocks(g, gr, x, w, b, relu, [&](int64_t n, int64_t ob, const float* grid) {
    for (int64_t k = 0; k < kOB && ob * kOB + k < g.o; ++k) {
      float* dst = y + (n * g.o + ob * kOB + k) * ohw;
      const float* src = grid + k * gr.tr;
      for (int64_t i = 0; i < g.oh; ++i) copy_row(dst + i * g.ow, src + i * gr.wp, g.ow);
    }
  });
  return true;
}

namespace {

// The weight and bias gradient: fill(n, o, grid) writes the output gradient of plane (n, o) onto the width-wp
// grid (places it does not write must stay zero: the grid is zeroed once per thread); every tap is then a dot
// product of that grid with the shifted padded input. Output channels are split over the threads, each summed
// by one thread with the images in order (the same bits for any thread count).
template <typename Fill>
void weight_grad_blocks(const Conv2dGeom& g, const Grid& gr, const float* x, float* dw, float* db,
                        Fill&& fill) {
  const int64_t taps = g.c * g.kh * g.kw;
  const std::vector<int64_t> off = tap_offsets(g, gr);
  const int64_t chunks = std::min<int64_t>(num_threads(), g.o);
  parallel_for(0, chunks, 0, [&](int64_t clo, int64_t chi) {
    const int64_t o0 = clo * g.o / chunks, o1 = chi * g.o / chunks;
    if (o1 <= o0) return;
    float* xp = padded_buffer(g, gr);
    thread_local std::vector<float> dyg;
    thread_local std::vector<double> acc;
    dyg.assign(size_t(gr.tr), 0.f);
    acc.assign(size_t((o1 - o0) * (taps + 1)), 0.0);
    for (int64_t n = 0; n < g.n; ++n) {
      fill_padded(g, gr, x, n, xp);
      for (int64_t o = o0; o < o1; ++o) {
        fill(n, o, dyg.data());
        double* a = acc.data() + (o - o0) * (taps + 1);
        for (int64_t k0 = 0; k0 < taps; k0 += kTapChunk) {
          const int64_t nk = std::min(kTapChunk, taps - k0);
          kTapDots[nk](dyg.data(), xp, off.data() + k0, gr.tr, a + k0);
        }
        a[taps] += grid_sum(dyg.data(), gr.tr);
      }
    }
    for (int64_t o = o0; o < o1; ++o) {
      const double* a = acc.data() + (o - o0) * (taps + 1);
      for (int64_t k = 0; k < taps; ++k) dw[o * taps + k] = float(a[k]);
      if (db) db[o] = float(a[taps]);
    }
  });
}

}  // namespace

bool conv2d_backward_weights_direct(const Conv2dGeom& g, const float* x, const float* dy,
                                    const float* relu_out, float* dw, float* db) {
  if (!conv2d_direct_supported(g)) return false;
  const Grid gr = grid_of(g);
  const int64_t ohw = g.oh * g.ow;
  // Grid columns j >= ow and the tail are never written: zero.
  weight_grad_blocks(g, gr, x, dw, db, [&](int64_t n, int64_t o, float* dyg) {
    const float* d = dy + (n * g.o + o) * ohw;
    const float* m = relu_out ? relu_out + (n * g.o + o) * ohw : nullptr;
    for (int64_t i = 0; i < g.oh; ++i) {
      if (m)
        copy_row_masked(dyg + i * gr.wp, d + i * g.ow, m + i * g.ow, g.ow);
      else
        copy_row(dyg + i * gr.wp, d + i * g.ow, g.ow);
    }
  });
  return true;
}

// ---- convolution + 2x2/2 max pooling (+ ReLU after the pooling), fused ----

bool conv2d_pool2_forward_direct(const Conv2dGeom& g, const float* x, const float* w, const float* b,
                                 bool relu, float* y, uint8_t* arg) {
  if (!conv2d_direct_supported(g) || g.oh < 2 || g.ow < 2) return false;
  const Grid gr = grid_of(g);
  const int64_t ph = g.oh / 2, pw = g.ow / 2, phw = ph * pw;
  // The ReLU goes after the pooling (the same values: relu is monotone).
  forward_blocks(g, gr, x, w, b, false, [&](int64_t n, int64_t ob, const float* grid) {
    for (int64_t k = 0; k < kOB && ob * kOB + k < g.o; ++k) {
      const int64_t plane = n * g.o + ob * kOB + k;
      pool2_plane(grid + k * gr.tr, gr.wp, ph, pw, relu, y + plane * phw, arg + plane * phw);
    }
  });
  return true;
}

bool conv2d_pool2_backward_weights_direct(const Conv2dGeom& g, const float* x, const float* dy,
                                          const float* relu_out, const uint8_t* arg, float* dw, float* db) {
  if (!conv2d_direct_supported(g) || g.oh < 2 || g.ow < 2) return false;
  const Grid gr = grid_of(g);
  const int64_t ph = g.oh / 2, pw = g.ow / 2, phw = ph * pw;
  // Places outside the pooled area (odd last row/column, padding columns) are never written: zero.
  weight_grad_blocks(g, gr, x, dw, db, [&](int64_t n, int64_t o, float* dyg) {
    const int64_t plane = n * g.o + o;
    unpool2_plane(dy + plane * phw, relu_out ? relu_out + plane * phw : nullptr, arg + plane * phw, ph, pw,
                  gr.wp, dyg);
  });
  return true;
}

}  // namespace ember::kernels
