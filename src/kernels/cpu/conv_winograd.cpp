// 3x3 stride-1 convolution by Winograd's minimal filtering algorithm F(4x4, 3x3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2015), with interpolation points 0, 1, -1, 2, -2 and
// infinity. A 4x4 block of outputs comes from a 6x6 block of inputs as
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// so each output pixel costs 36/16 = 2.25 multiplications per input channel instead of 9. Summed over the
// input channels, the elementwise product becomes 36 independent GEMMs (one per point of the 6x6 transform
// domain), which run on the 6x16 AVX2 micro-kernel shared with conv_gemm.cpp.
//
//   forward:         y = conv(x, w)                          (U = G w G^T, V = B^T x-tile B, Y = A^T M A)
//   backward data:   the adjoint of the forward on the same tiles: dx-patch += B [U (.) (A dy-tile A^T)] B^T
//   backward weights: dW = sum over tiles of correlation(x-patch 6x6, dy-tile 4x4), i.e. F(3x3, 4x4) with
//                    the same points: G' = diag(s) E4, A'^T = E3^T, the same B^T (the algorithm's transpose).
//                    E4 is A, so both backward passes share one transform of each dy tile (backward()).
// The transforms run 8 channels at a time in ymm registers on NHWC copies of the images; the GEMMs put
// tiles in the 6-row (broadcast) operand and channels in the 16-wide operand.
//
// Work is split over the threads by images; the weight gradient sums per-thread partials in thread order, so
// results are deterministic for a given thread count. Rounding differs from the direct sum (the transforms
// scale values by up to ~100): errors of up to a few 1e-5 of the output's RMS (tests/ops/conv_test.cpp).
#include "conv_winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EMBER_WINOGRAD_AVX2 1
#include "gemm_avx2.h"
#endif

namespace ember::kernels::conv_winograd {

#ifdef EMBER_WINOGRAD_AVX2

using namespace avx2_gemm;

namespace {

constexpr int64_t kPoints = 36;              // 6x6 transform domain
constexpr int64_t kBlockBytes = 256 * 1024;  // transformed inputs + GEMM outputs of one block stay in L2

int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// kColMask + 4 - r: lane mask for the first r (1..4) of 4 floats.
alignas(16) constexpr int32_t kColMask[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

inline __m256 set1(float v) {
  return _mm256_set1_ps(v);
}

// v = B^T d (6 -> 6).
inline void bt6(const __m256* d, __m256* v) {
  const __m256 four = set1(4.f), five = set1(5.f), two = set1(2.f);
  v[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  v[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  v[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  v[3] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[3], d[1]), _mm256_sub_ps(d[4], d[2]));
  v[4] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[1], d[3]), _mm256_sub_ps(d[4], d[2]));
  v[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

// y = A^T m (6 -> 4).
inline void at4(const __m256* m, __m256* y) {
  const __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]), c = _mm256_add_ps(m[3], m[4]),
               d = _mm256_sub_ps(m[3], m[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
  y[1] = _mm256_fmadd_ps(set1(2.f), d, b);
  y[2] = _mm256_fmadd_ps(set1(4.f), c, a);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(set1(8.f), d, b), m[5]);
}

// y = A'^T m (6 -> 3), the weight gradient's output transform.
inline void at3(const __m256* m, __m256* y) {
  const __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]), c = _mm256_add_ps(m[3], m[4]),
               d = _mm256_sub_ps(m[3], m[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
  y[1] = _mm256_fmadd_ps(set1(2.f), d, b);
  y[2] = _mm256_add_ps(_mm256_fmadd_ps(set1(4.f), c, a), m[5]);
}

// u = G g (3 -> 6), the filter transform.
inline void g3(const __m256* g, __m256* u) {
  const __m256 s = _mm256_add_ps(g[0], g[2]), s4 = _mm256_fmadd_ps(set1(4.f), g[2], g[0]);
  u[0] = _mm256_mul_ps(set1(0.25f), g[0]);
  u[1] = _mm256_mul_ps(set1(-1.f / 6), _mm256_add_ps(s, g[1]));
  u[2] = _mm256_mul_ps(set1(-1.f / 6), _mm256_sub_ps(s, g[1]));
  u[3] = _mm256_mul_ps(set1(1.f / 24), _mm256_fmadd_ps(set1(2.f), g[1], s4));
  u[4] = _mm256_mul_ps(set1(1.f / 24), _mm256_fnmadd_ps(set1(2.f), g[1], s4));
  u[5] = g[2];
}

// z = A d (4 -> 6), the adjoint of the output transform (backward data).
inline void a6(const __m256* d, __m256* z) {
  const __m256 e = _mm256_add_ps(d[0], d[2]), o = _mm256_add_ps(d[1], d[3]),
               e4 = _mm256_fmadd_ps(set1(4.f), d[2], d[0]),
               o4 = _mm256_mul_ps(set1(2.f), _mm256_fmadd_ps(set1(4.f), d[3], d[1]));
  z[0] = d[0];
  z[1] = _mm256_add_ps(e, o);
  z[2] = _mm256_sub_ps(e, o);
  z[3] = _mm256_add_ps(e4, o4);
  z[4] = _mm256_sub_ps(e4, o4);
  z[5] = d[3];
}

// e = B m (6 -> 6), the adjoint of the input transform (backward data).
inline void b6(const __m256* m, __m256* e) {
  const __m256 s12 = _mm256_add_ps(m[1], m[2]), d21 = _mm256_sub_ps(m[2], m[1]),
               s34 = _mm256_add_ps(m[3], m[4]), d43 = _mm256_sub_ps(m[4], m[3]);
  e[0] = _mm256_mul_ps(set1(4.f), m[0]);
  e[1] = _mm256_fmadd_ps(set1(4.f), _mm256_add_ps(d21, m[5]), _mm256_add_ps(d43, d43));
  e[2] = _mm256_sub_ps(_mm256_setzero_ps(),
                       _mm256_fmadd_ps(set1(5.f), m[0], _mm256_fmadd_ps(set1(4.f), s12, s34)));
  e[3] = _mm256_fnmadd_ps(set1(5.f), m[5],
                          _mm256_fnmadd_ps(set1(2.f), d43, _mm256_sub_ps(_mm256_setzero_ps(), d21)));
  e[4] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
  e[5] = m[5];
}

// V[pt * vs] (pt = 6i + j) = (T d T^T)[i][j] for the N x N block d(i, j) = s[(i * ld + j) * cs], 8 channels,
// where T (N -> 6) is bt6 (N = 6: input patches) or a6 (N = 4: output-gradient tiles).
template <int N, void (*T)(const __m256*, __m256*)>
inline void tile_to_6(const float* s, int64_t ld, int64_t cs, float* v, int64_t vs) {
  __m256 tmp[6 * N], d[N], t[6];
  for (int j = 0; j < N; ++j) {
    for (int i = 0; i < N; ++i) d[i] = _mm256_loadu_ps(s + (i * ld + j) * cs);
    T(d, t);
    for (int i = 0; i < 6; ++i) tmp[i * N + j] = t[i];
  }
  for (int i = 0; i < 6; ++i) {
    T(tmp + i * N, t);
    for (int j = 0; j < 6; ++j) _mm256_storeu_ps(v + (i * 6 + j) * vs, t[j]);
  }
}

// Transformed filters for 8 output columns n0..n0+7 of row k: U[pt * us] = (G g G^T)[pt], where tap (p, r)
// of column n is w[n * sn + 3p + r]. Lanes at or past nvalid are 0.
inline void filter_tile(const float* w, int64_t sn, int64_t nvalid, float* u, int64_t us) {
  alignas(32) int32_t idx[8];
  alignas(32) int32_t msk[8];
  for (int l = 0; l < 8; ++l) idx[l] = int32_t(l * sn), msk[l] = l < nvalid ? -1 : 0;
  const __m256i vi = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
  const __m256 vm = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(msk)));
  __m256 g[9];
  for (int tap = 0; tap < 9; ++tap)
    g[tap] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), w + tap, vi, vm, 4);
  __m256 tmp[18], c[3], t[6];
  for (int r = 0; r < 3; ++r) {  // columns: (G g)[i][r]
    for (int p = 0; p < 3; ++p) c[p] = g[p * 3 + r];
    g3(c, t);
    for (int i = 0; i < 6; ++i) tmp[i * 3 + r] = t[i];
  }
  for (int i = 0; i < 6; ++i) {
    g3(tmp + i * 3, t);
    for (int j = 0; j < 6; ++j) _mm256_storeu_ps(u + (i * 6 + j) * us, t[j]);
  }
}

// U[pt][k][n] (kp x np per point) for the filter whose tap (p, r) at row k, column n is
// w[k * sk + n * sn + tap]; rows k >= kk and columns n >= nn are 0.
void transform_filters(const float* w, int64_t kk, int64_t nn, int64_t sk, int64_t sn, int64_t kp, int64_t np,
                       float* u) {
  const int64_t us = kp * np;
  for (int64_t k = 0; k < kp; ++k)
    for (int64_t n0 = 0; n0 < np; n0 += 8) {
      float* dst = u + k * np + n0;
      if (k >= kk || n0 >= nn) {
        for (int64_t pt = 0; pt < kPoints; ++pt) _mm256_storeu_ps(dst + pt * us, _mm256_setzero_ps());
        continue;
      }
      filter_tile(w + k * sk + n0 * sn, sn, nn - n0, dst, us);
    }
}

// The gradient of one image's convolution output (pg.c channels, pg.h x pg.w, zero-padded after by pg.pb rows
// and pg.pr columns) as an NHWC copy with cp channels per pixel, from the gradient of its 2x2 max-pooled
// output: each pooled gradient goes to its window's argmax (masked by the pooled output > 0 for a ReLU),
// every other pixel is 0. dy: the image's pooled gradient; off: its offset in p.relu_out and p.arg.
void unpool_image(const Conv2dGeom& pg, int64_t cp, const float* dy, const Pool2Grad& p, int64_t off,
                  float* dst) {
  const int64_t wp = pg.w + pg.pl + pg.pr, ph = pg.h / 2, pw = pg.w / 2, phw = ph * pw;
  std::fill(dst, dst + (pg.h + pg.pt + pg.pb) * wp * cp, 0.f);
  for (int64_t c = 0; c < pg.c; ++c) {
    const float* d = dy + c * phw;
    const float* r = p.relu_out ? p.relu_out + off + c * phw : nullptr;
    const uint8_t* a = p.arg + off + c * phw;
    for (int64_t i = 0; i < ph; ++i)
      for (int64_t j = 0; j < pw; ++j) {
        const int64_t k = i * pw + j;
        if (r && !(r[k] > 0.f)) continue;
        dst[((2 * i + (a[k] >> 1) + pg.pt) * wp + 2 * j + (a[k] & 1) + pg.pl) * cp + c] = d[k];
      }
  }
}

// NHWC copies of a thread's images, made on demand into a ring of slots: image l (counted from the thread's
// first) must be asked for in non-decreasing order, and l >= (latest asked) - slots + 1 stays valid.
// Given pool (relu_out and arg from the first image on), src is the gradient of the pooled output and each
// copy is the gradient of the convolution output (unpool_image).
struct ImageRing {
  Conv2dGeom pg;  // c, h, w and the pads around the copy (hp = h + pt + pb rows of wp = w + pl + pr)
  int64_t cp = 8, stride = 0, count = 0, slots = 1, next = 0, img = 0;
  const float* src = nullptr;
  Pool2Grad pool{};
  bool pooled = false;
  Buf buf;
  float* base = nullptr;

  void reset(const Conv2dGeom& geom, int64_t channels_padded, const float* first, int64_t src_stride,
             int64_t images, int64_t nslots, const Pool2Grad* pool_grad = nullptr) {
    pg = geom, cp = channels_padded, src = first, stride = src_stride, count = images, slots = nslots;
    pooled = pool_grad != nullptr;
    if (pooled) pool = *pool_grad;
    next = 0;
    img = (pg.h + pg.pt + pg.pb) * (pg.w + pg.pl + pg.pr) * cp;
    base = buf.get(slots * img);
  }
  // Converting image l also asks for image l + 1 to be brought into L2: the 8x8 transposes read 8 planes
  // at once, in short pieces the hardware prefetchers do not follow.
  const float* image(int64_t l) {
    for (; next <= l; ++next) {
      float* dst = base + (next % slots) * img;
      if (pooled) {
        unpool_image(pg, cp, src + next * stride, pool, next * stride, dst);
        continue;
      }
      if (next + 1 < count)
        for (int64_t i = 0; i < stride; i += 16)
          _mm_prefetch(reinterpret_cast<const char*>(src + (next + 1) * stride + i), _MM_HINT_T1);
      to_nhwc(pg, src + next * stride, 1, cp, dst);
    }
    return base + (l % slots) * img;
  }
};

// The per-point GEMMs of a block of cnt tiles: M[pt][tile][n] = sum over k of V[pt][tile][k] U[pt][k][n],
// V with kp floats per tile and vs per point, U kp x np per point, M np floats per tile and ms per point.
// V's rows from cnt up to the next multiple of 6 are zeroed first (the 6-row slivers read them).
void point_gemms(int64_t cnt, int64_t kp, int64_t np, float* v, int64_t vs, const float* u, float* m,
                 int64_t ms) {
  const int64_t rows = round_up(cnt, MR);
  for (int64_t pt = 0; pt < kPoints; ++pt) std::fill(v + pt * vs + cnt * kp, v + pt * vs + rows * kp, 0.f);
  for (int64_t pt = 0; pt < kPoints; ++pt)
    for (int64_t j = 0; j < np; j += NR)
      for (int64_t i = 0; i < rows; i += MR) {
        Tile tl;
        micro_6x16_strided(kp, v + pt * vs + i * kp, 1, kp, u + pt * kp * np + j, np, tl);
        store_tile(tl, m + pt * ms + i * np + j, np, true);
      }
}

// The thread's share of one layer: images [n0, n1), and the tile grid of each output plane.
struct Tiling {
  int64_t th, tw, tiles;  // tiles per image
  Tiling(int64_t oh, int64_t ow) : th(ceil_div(oh, 4)), tw(ceil_div(ow, 4)), tiles(th * tw) {}
};

// Transforms tiles [q0, q0 + cnt) of the thread's images (tile q: image q / tiles, 4x4 grid position q %
// tiles) with tile_to_6<N, T>, cp channels 8 at a time, from the ring's NHWC images (ld pixels per row) into
// v[pt * vs + (q - q0) * cp + c].
template <int N, void (*T)(const __m256*, __m256*)>
void transform_tiles(ImageRing& ring, const Tiling& tg, int64_t q0, int64_t cnt, int64_t ld, int64_t cp,
                     float* v, int64_t vs) {
  for (int64_t q = q0; q < q0 + cnt; ++q) {
    const int64_t l = q / tg.tiles, tt = q % tg.tiles, ti = tt / tg.tw, tj = tt % tg.tw;
    const float* s = ring.image(l) + (4 * ti * ld + 4 * tj) * cp;
    for (int64_t c0 = 0; c0 < cp; c0 += 8) tile_to_6<N, T>(s + c0, ld, cp, v + (q - q0) * cp + c0, vs);
  }
}

// 2x2 max pooling of a 4x4 output tile y[pos] (8 channels per vector, positions row-major) into pooled rows
// pi0, pi0 + 1 and columns pj0, pj0 + 1 (those inside ph x pw) of image l, channels o0 .. o0 + chans - 1 of
// dst and arg (n, nn, ph, pw); ReLU after the pooling when relu.
inline void pool_tile(const __m256* y, int64_t l, int64_t o0, int64_t chans, int64_t pi0, int64_t pj0,
                      int64_t nn, int64_t ph, int64_t pw, bool relu, float* dst, uint8_t* arg) {
  alignas(32) float best[4][8], idx[4][8];
  for (int pi = 0; pi < 2; ++pi)
    for (int pj = 0; pj < 2; ++pj) {
      const int p0 = 8 * pi + 2 * pj;  // the window's top-left position
      __m256 b = y[p0], k = _mm256_setzero_ps();
      const int cand[3] = {p0 + 1, p0 + 4, p0 + 5};
      for (int t = 0; t < 3; ++t) {
        const __m256 c = y[cand[t]];
        const __m256 better =
            _mm256_or_ps(_mm256_cmp_ps(c, b, _CMP_GT_OQ),
                         _mm256_and_ps(_mm256_cmp_ps(c, c, _CMP_UNORD_Q), _mm256_cmp_ps(b, b, _CMP_ORD_Q)));
        b = _mm256_blendv_ps(b, c, better);
        k = _mm256_blendv_ps(k, _mm256_set1_ps(float(t + 1)), better);
      }
      if (relu) b = _mm256_max_ps(_mm256_setzero_ps(), b);  // max_ps returns its second operand for a NaN
      _mm256_store_ps(best[2 * pi + pj], b);
      _mm256_store_ps(idx[2 * pi + pj], k);
    }
  const int64_t phw = ph * pw;
  for (int pi = 0; pi < 2; ++pi) {
    if (pi0 + pi >= ph) break;
    for (int pj = 0; pj < 2; ++pj) {
      if (pj0 + pj >= pw) break;
      const int64_t at = (l * nn + o0) * phw + (pi0 + pi) * pw + pj0 + pj;
      for (int64_t c = 0; c < chans; ++c) {
        dst[at + c * phw] = best[2 * pi + pj][c];
        arg[at + c * phw] = uint8_t(idx[2 * pi + pj][c]);
      }
    }
  }
}

// dst (n, nn, oh, ow) = bias + sum over k of conv(src (n, kk, h, w) zero-padded by (pt, pl), filter),
// 3x3 stride 1, from the transformed filters u (kp x np per point, kp = round_up(kk, 8), np a multiple of
// 16). bias (np floats, 0 past nn) may be null. With arg, dst (n, nn, oh / 2, ow / 2) gets the 2x2 max
// pooling of the output instead (then the ReLU) and arg each window's argmax (2 * row + column; the first
// maximum in row-major order, a NaN wins, like max_pool2d): the 4x4 tiles hold whole windows.
void conv_core(int64_t n, int64_t kk, int64_t h, int64_t w, const float* src, int64_t nn, int64_t oh,
               int64_t ow, int64_t pt, int64_t pl, const float* u, int64_t kp, int64_t np, const float* bias,
               bool relu, float* dst, uint8_t* arg = nullptr) {
  const Tiling tg(oh, ow);
  const int64_t hp = 4 * tg.th + 2, wp = 4 * tg.tw + 2;
  Conv2dGeom pg;
  pg.c = kk, pg.h = h, pg.w = w, pg.pt = pt, pg.pl = pl, pg.pb = hp - h - pt, pg.pr = wp - w - pl;
  // Tiles per block (rows of the GEMMs, a multiple of 6).
  const int64_t tb = std::clamp<int64_t>(kBlockBytes / (kPoints * 4 * (kp + np)) / MR * MR, MR, 10 * MR);
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(num_threads(), n));
  const int64_t ohw = oh * ow, plane = h * w;
  for_threads(nt, [&](int64_t t) {
    thread_local ImageRing ring;
    thread_local Buf vbuf, mbuf;
    int64_t n0, n1;
    thread_images(n, t, nt, n0, n1);
    ring.reset(pg, kp, src + n0 * kk * plane, kk * plane, n1 - n0, ceil_div(tb, tg.tiles) + 1);
    float* v = vbuf.get(kPoints * tb * kp);
    float* m = mbuf.get(kPoints * tb * np);
    const int64_t vs = tb * kp, ms = tb * np;  // per-point strides
    const int64_t total = (n1 - n0) * tg.tiles;
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t q0 = 0; q0 < total; q0 += tb) {
      const int64_t cnt = std::min(tb, total - q0);
      // Input transform, 8 channels at a time: V = B^T d B.
      transform_tiles<6, bt6>(ring, tg, q0, cnt, wp, kp, v, vs);
      point_gemms(cnt, kp, np, v, vs, u, m, ms);
      // Output transform, 8 output channels at a time, then bias, ReLU and the store into NCHW.
      for (int64_t q = q0; q < q0 + cnt; ++q) {
        const int64_t l = n0 + q / tg.tiles, tt = q % tg.tiles, i0 = 4 * (tt / tg.tw), j0 = 4 * (tt % tg.tw);
        const float* mq = m + (q - q0) * np;
        const bool full_tile = i0 + 4 <= oh && j0 + 4 <= ow;
        for (int64_t o0 = 0; o0 < nn; o0 += 8) {
          __m256 tmp[24], mm[6], y[16], t4[4];
          for (int j = 0; j < 6; ++j) {
            for (int i = 0; i < 6; ++i) mm[i] = _mm256_loadu_ps(mq + (i * 6 + j) * ms + o0);
            at4(mm, t4);
            for (int i = 0; i < 4; ++i) tmp[i * 6 + j] = t4[i];
          }
          const __m256 bv = bias ? _mm256_loadu_ps(bias + o0) : zero;
          for (int i = 0; i < 4; ++i) {
            at4(tmp + i * 6, t4);
            for (int j = 0; j < 4; ++j) {
              __m256 r = _mm256_add_ps(t4[j], bv);
              if (relu && !arg) r = _mm256_max_ps(r, zero);
              y[i * 4 + j] = r;
            }
          }
          if (arg) {
            pool_tile(y, l, o0, std::min<int64_t>(8, nn - o0), i0 / 2, j0 / 2, nn, oh / 2, ow / 2, relu, dst,
                      arg);
            continue;
          }
          // y[pos][channel] -> per channel, positions 0-7 (rows 0-1) and 8-15 (rows 2-3).
          transpose8(y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]);
          transpose8(y[8], y[9], y[10], y[11], y[12], y[13], y[14], y[15]);
          const int64_t chans = std::min<int64_t>(8, nn - o0);
          float* d0 = dst + ((l * nn + o0) * oh + i0) * ow + j0;
          if (full_tile) {
            for (int64_t c = 0; c < chans; ++c) {
              float* d = d0 + c * ohw;
              _mm_storeu_ps(d, _mm256_castps256_ps128(y[c]));
              _mm_storeu_ps(d + ow, _mm256_extractf128_ps(y[c], 1));
              _mm_storeu_ps(d + 2 * ow, _mm256_castps256_ps128(y[8 + c]));
              _mm_storeu_ps(d + 3 * ow, _mm256_extractf128_ps(y[8 + c], 1));
            }
          } else {
            // The tile sticks out of the plane: rows past oh are dropped, columns past ow masked off.
            const int64_t ri = std::min<int64_t>(4, oh - i0), rj = std::min<int64_t>(4, ow - j0);
            const __m128i cm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kColMask + 4 - rj));
            for (int64_t c = 0; c < chans; ++c) {
              float* d = d0 + c * ohw;
              const __m128 rows[4] = {_mm256_castps256_ps128(y[c]), _mm256_extractf128_ps(y[c], 1),
                                      _mm256_castps256_ps128(y[8 + c]), _mm256_extractf128_ps(y[8 + c], 1)};
              for (int64_t i = 0; i < ri; ++i) _mm_maskstore_ps(d + i * ow, cm, rows[i]);
            }
          }
        }
      }
    }
  });
}

std::atomic<bool>& enabled() {
  static std::atomic<bool> on = [] {
    const char* e = std::getenv("EMBER_CONV_WINOGRAD");
    return !(e && std::string(e) == "0") && !std::getenv("EMBER_CONV_LAYOUT");
  }();
  return on;
}

}  // namespace

bool set_enabled(bool on) {
  return enabled().exchange(on);
}

bool fits(int64_t h, int64_t w) {
  return 16 * ceil_div(h, 4) * ceil_div(w, 4) * 10 <= 16 * h * w;
}

bool supported(const Conv2dGeom& g) {
  return enabled() && handles(g);
}

bool handles(const Conv2dGeom& g) {
  return g.groups == 1 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.c >= 8 && g.o >= 8 && g.n > 0 && g.oh > 0 && g.ow > 0 && g.pt >= 0 && g.pt <= 2 && g.pb >= 0 &&
         g.pb <= 2 && g.pl >= 0 && g.pl <= 2 && g.pr >= 0 && g.pr <= 2;
}

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu) {
  forward_pool2(g, x, w, b, relu, y, nullptr);
}

void forward_pool2(const Conv2dGeom& g, const float* x, const float* w, const float* b, bool relu, float* y,
                   uint8_t* arg) {
  const int64_t kp = round_up(g.c, 8), np = round_up(g.o, NR);
  thread_local Buf ubuf, bbuf;
  float* u = ubuf.get(kPoints * kp * np);
  transform_filters(w, g.c, g.o, 9, g.c * 9, kp, np, u);
  float* bias = nullptr;
  if (b) {
    bias = bbuf.get(np);
    std::fill(bias, bias + np, 0.f);
    std::copy(b, b + g.o, bias);
  }
  conv_core(g.n, g.c, g.h, g.w, x, g.o, g.oh, g.ow, g.pt, g.pl, u, kp, np, bias, relu, y, arg);
}

void backward(const Conv2dGeom& g, const float* x, const float* dy, const float* w, float* dx, float* dw,
              float* db, const Pool2Grad* pool) {
  // One pass over the tiles of dy (4x4 blocks of the output plane, the forward's tiles) serves both
  // gradients: each tile is read (or unpooled) and transformed once, Z = A dy-tile A^T.
  // - dx, the adjoint of the forward algorithm (9 tiles for an 11x11 plane, where a convolution of dy padded
  //   by 2 would need 16 for the 13x13 dx): each tile's 6x6 patch of the padded dx gets
  //   B [ (G w G^T) (.) Z ] B^T, summed over the output channels by one GEMM per point; neighbouring patches
  //   overlap by 2 rows or columns and are added into an NHWC copy of the padded dx.
  // - dW[o][c] (3x3) = sum over tiles of A'^T [ (G' dy-tile G'^T) (.) (B^T x-patch B) ] A', F(3x3, 4x4) with
  //   the 6x6 x-patch at the tile's origin (padded coordinates). G' = diag(s) A with
  //   s = (1/4, -1/6, -1/6, 1/24, 1/24, 1), so G' dy G'^T = s_i s_j Z[i][j]: the sum over tiles is one GEMM
  //   per point on Z, M[pt][o][c] = sum over tiles Z[pt][tile][o] X[pt][tile][c], scaled by s_i s_j at the
  //   end.
  const bool want_x = dx != nullptr, want_w = dw != nullptr;
  if (!want_x && !want_w) return;
  const Tiling tg(g.oh, g.ow);
  const int64_t hp = 4 * tg.th + 2, wp = 4 * tg.tw + 2;
  // Output channels padded to 8 (kp) for the dy transform; input channels to 16 (np, cp) for the GEMMs'
  // 16-wide operand and to 8 (cpa) for the dx accumulator. The weight gradient's 6-row slivers over the
  // output channels reach mb * 6 - 1, which for o = 64 is 2 past kp: those rows read the next tile's first
  // values (or the buffer's slack after the last) and only feed rows of the partials past o, never read.
  const int64_t kp = round_up(g.o, 8), np = round_up(g.c, NR), cpa = round_up(g.c, 8), mb = ceil_div(g.o, MR);
  float* u = nullptr;
  if (want_x) {
    thread_local Buf ubuf;
    u = ubuf.get(kPoints * kp * np);
    transform_filters(w, g.o, g.c, g.c * 9, 9, kp, np, u);
  }
  Conv2dGeom dg;  // dy, zero-padded to whole tiles
  dg.c = g.o, dg.h = g.oh, dg.w = g.ow, dg.pb = 4 * tg.th - g.oh, dg.pr = 4 * tg.tw - g.ow;
  const int64_t dwp = 4 * tg.tw;
  Conv2dGeom xg;  // x (and dx) zero-padded to hp x wp pixels
  xg.c = g.c, xg.h = g.h, xg.w = g.w, xg.pt = g.pt, xg.pl = g.pl, xg.pb = hp - g.h - g.pt,
  xg.pr = wp - g.w - g.pl;
  // Tiles per block (a multiple of 6: the rows of the dx GEMMs); the block's Z, M and X stay in L2.
  // (18 tiles for 32->64 channels; 12-48 measured no better for the one-pass backward of both gradients.)
  const int64_t tb = std::clamp<int64_t>(kBlockBytes / (kPoints * 4 * (kp + np)) / MR * MR, MR, 10 * MR);
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(num_threads(), g.n));
  const int64_t chw = g.c * g.h * g.w, acc_img = hp * wp * cpa, accn = kPoints * mb * MR * np;
  // dy per image and output channel: the convolution's output plane, or the pooled one.
  const int64_t dplane = pool ? (g.oh / 2) * (g.ow / 2) : g.oh * g.ow;
  const ThreadPartials parts(nt, want_w ? accn : 0, g.o);
  for_threads(nt, [&](int64_t t) {
    thread_local ImageRing dring, xring;
    thread_local Buf zbuf, mbuf, abuf, xbuf;
    int64_t n0, n1;
    thread_images(g.n, t, nt, n0, n1);
    const int64_t slots = ceil_div(tb, tg.tiles) + 1;
    const Pool2Grad tpool = pool ? pool->from(n0 * g.o * dplane) : Pool2Grad{};
    dring.reset(dg, kp, dy + n0 * g.o * dplane, g.o * dplane, n1 - n0, slots, pool ? &tpool : nullptr);
    if (want_w) xring.reset(xg, np, x + n0 * chw, chw, n1 - n0, slots);
    float* z = zbuf.get(kPoints * tb * kp + MR);
    float* m = want_x ? mbuf.get(kPoints * tb * np) : nullptr;
    float* acc = want_x ? abuf.get(slots * acc_img) : nullptr;
    float* xv = want_w ? xbuf.get(kPoints * tb * np) : nullptr;
    float* wacc = want_w ? parts.w[size_t(t)] : nullptr;
    const int64_t zs = tb * kp, ms = tb * np;  // per-point strides (xv: ms too)
    const int64_t total = (n1 - n0) * tg.tiles;
    if (want_w && total == 0) std::fill(wacc, wacc + accn, 0.f);
    int64_t started = 0, flushed = 0;  // images whose dx accumulator is zeroed / written out
    for (int64_t q0 = 0; q0 < total; q0 += tb) {
      const int64_t cnt = std::min(tb, total - q0);
      // dy transform, 8 output channels at a time: Z = A dy A^T.
      transform_tiles<4, a6>(dring, tg, q0, cnt, dwp, kp, z, zs);
      if (want_w) {
        transform_tiles<6, bt6>(xring, tg, q0, cnt, wp, np, xv, ms);
        const bool fresh = q0 == 0;
        for (int64_t pt = 0; pt < kPoints; ++pt)
          for (int64_t j = 0; j < np; j += NR)
            for (int64_t i = 0; i < mb * MR; i += MR) {
              Tile tl;
              micro_6x16_strided(cnt, z + pt * zs + i, kp, 1, xv + pt * ms + j, np, tl);
              store_tile(tl, wacc + (pt * mb * MR + i) * np + j, np, fresh);
            }
      }
      if (!want_x) continue;
      point_gemms(cnt, kp, np, z, zs, u, m, ms);
      // B M B^T, 8 input channels at a time, added into the image's padded NHWC accumulator.
      for (int64_t q = q0; q < q0 + cnt; ++q) {
        const int64_t l = q / tg.tiles, tt = q % tg.tiles, ti = tt / tg.tw, tj = tt % tg.tw;
        for (; started <= l; ++started) {
          float* a = acc + (started % slots) * acc_img;
          std::fill(a, a + acc_img, 0.f);
        }
        float* a0 = acc + (l % slots) * acc_img + (4 * ti * wp + 4 * tj) * cpa;
        const float* mq = m + (q - q0) * np;
        for (int64_t c0 = 0; c0 < cpa; c0 += 8) {
          __m256 tmp[36], mm[6], e6[6];
          for (int j = 0; j < 6; ++j) {
            for (int i = 0; i < 6; ++i) mm[i] = _mm256_loadu_ps(mq + (i * 6 + j) * ms + c0);
            b6(mm, e6);
            for (int i = 0; i < 6; ++i) tmp[i * 6 + j] = e6[i];
          }
          for (int i = 0; i < 6; ++i) {
            b6(tmp + i * 6, e6);
            float* row = a0 + i * wp * cpa + c0;
            for (int j = 0; j < 6; ++j)
              _mm256_storeu_ps(row + j * cpa, _mm256_add_ps(_mm256_loadu_ps(row + j * cpa), e6[j]));
          }
        }
      }
      // Images whose tiles are all done go out to dx (NCHW, without the padding).
      for (const int64_t done = (q0 + cnt) / tg.tiles; flushed < done; ++flushed)
        from_nhwc(xg, acc + (flushed % slots) * acc_img, cpa, dx + (n0 + flushed) * chw);
    }
    if (want_w && db) {
      std::vector<double>& bsum = parts.bias(t);
      for (int64_t l = n0; l < n1; ++l)
        for (int64_t o = 0; o < g.o; ++o) {
          const int64_t at = (l * g.o + o) * dplane;
          const float* d = dy + at;
          float s = 0;
          if (pool && pool->relu_out) {
            const float* r = pool->relu_out + at;
            for (int64_t q = 0; q < dplane; ++q) s += r[q] > 0.f ? d[q] : 0.f;
          } else {
#pragma omp simd reduction(+ : s)
            for (int64_t q = 0; q < dplane; ++q) s += d[q];
          }
          bsum[size_t(o)] += s;
        }
    }
  });
  if (!want_w) return;
  // Sum the partials in thread order, then the scaling by s_i s_j and the output transform, 8 input channels
  // at a time.
  float* acc = parts.w[0];
  for (int64_t t = 1; t < nt; ++t) {
    const float* p = parts.w[size_t(t)];
    for (int64_t i = 0; i < accn; ++i) acc[i] += p[i];
  }
  constexpr float kS[6] = {0.25f, -1.f / 6, -1.f / 6, 1.f / 24, 1.f / 24, 1.f};
  const int64_t as = mb * MR * np;  // per-point stride
  for (int64_t o = 0; o < g.o; ++o)
    for (int64_t c0 = 0; c0 < g.c; c0 += 8) {
      __m256 tmp[18], mm[6], y3[3];
      const float* a0 = acc + o * np + c0;
      for (int j = 0; j < 6; ++j) {
        for (int i = 0; i < 6; ++i)
          mm[i] = _mm256_mul_ps(_mm256_set1_ps(kS[i] * kS[j]), _mm256_loadu_ps(a0 + (i * 6 + j) * as));
        at3(mm, y3);
        for (int i = 0; i < 3; ++i) tmp[i * 6 + j] = y3[i];
      }
      alignas(32) float res[9][8];
      for (int i = 0; i < 3; ++i) {
        at3(tmp + i * 6, y3);
        for (int j = 0; j < 3; ++j) _mm256_store_ps(res[i * 3 + j], y3[j]);
      }
      const int64_t chans = std::min<int64_t>(8, g.c - c0);
      for (int64_t c = 0; c < chans; ++c)
        for (int tap = 0; tap < 9; ++tap) dw[(o * g.c + c0 + c) * 9 + tap] = res[tap][c];
    }
  if (db) parts.sum_bias(g.o, db);
}

void backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx, const Pool2Grad* pool) {
  backward(g, nullptr, dy, w, dx, nullptr, nullptr, pool);
}

void backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db,
                      const Pool2Grad* pool) {
  backward(g, x, dy, nullptr, nullptr, dw, db, pool);
}

#else  // no AVX2: conv.cpp uses its other paths

bool set_enabled(bool) {
  return false;
}
bool fits(int64_t, int64_t) {
  return false;
}

bool supported(const Conv2dGeom&) {
  return false;
}
bool handles(const Conv2dGeom&) {
  return false;
}
void forward(const Conv2dGeom&, const float*, const float*, const float*, float*, bool) {}
void forward_pool2(const Conv2dGeom&, const float*, const float*, const float*, bool, float*, uint8_t*) {}
void backward(const Conv2dGeom&, const float*, const float*, const float*, float*, float*, float*,
              const Pool2Grad*) {}
void backward_data(const Conv2dGeom&, const float*, const float*, float*, const Pool2Grad*) {}
void backward_weights(const Conv2dGeom&, const float*, const float*, float*, float*, const Pool2Grad*) {}

#endif

}  // namespace ember::kernels::conv_winograd
