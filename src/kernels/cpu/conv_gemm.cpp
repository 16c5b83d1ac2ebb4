// Convolution as im2col + GEMM with a hand-written AVX2/FMA micro-kernel, for the middle layers of small
// image models (e.g. 32->64 channels on 13x13, 64->64 on 5x5), where oneDNN's sgemm reached ~40 GFLOP/s per
// core on these shapes and its direct kernels pay layout reorders on every call.
//
// All three passes are one GEMM C = A * B over packed panels: A in slivers of MR=6 rows (k-major, 6 values
// per k), B in slivers of NR=16 columns (16 values per k). The 6x16 micro-kernel keeps 12 ymm accumulators
// and does 12 FMAs per 2 loads + 6 broadcasts, which the 2 FMA pipes of a Zen 3 core sustain from L1/L2.
//   forward:          Y[o][pix]  = W[o][ck] * col[ck][pix]        (pix: the output pixels of a block of
//   images) backward data:    dcol[ck][pix] = W^T[ck][o] * dY[o][pix], then col2im adds dcol into dX backward
//   weights: dW^T[ck][o] = sum over pix of col[ck][pix] * dY^T[pix][o]
// Images are split statically over the threads; the weight gradient sums per-thread partials in thread order,
// so results are deterministic for a given thread count.
#include "conv_gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ember/kernels/parallel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EMBER_CONV_GEMM_AVX2 1
#include "gemm_avx2.h"
#endif

namespace ember::kernels::conv_gemm {

#ifdef EMBER_CONV_GEMM_AVX2

using namespace avx2_gemm;

namespace {

constexpr int64_t kKcMax = 320;        // GEMM depth per pass over C (B sliver kc*16 floats stays in L1)
constexpr int64_t kBlockPixels = 128;  // output pixels per GEMM (small images are batched to reach it)

void micro_6x16(int64_t kc, const float* a, const float* b, Tile& t) {
  micro_6x16_rows(kc, PackedA{a}, PackedRows{b}, t);
}
void micro_6x16_idx(int64_t kc, const float* a, const float* bb, const int64_t* boff, Tile& t) {
  micro_6x16_rows(kc, PackedA{a}, IndexedRows{bb, boff}, t);
}

// C (mb*6 x nb*16) = A * B over depth kd, handing each 6x16 tile to store(i, j, first, last, tile): first is
// set for the first depth block of the tile (nothing to accumulate onto), last for the final one. Sliver i
// of A starts at ap + i*as and holds kd*6 floats (k-major); sliver j of B at bp + j*bs with kd*16 floats.
// The depth is cut into blocks of at most kKcMax so a B sliver stays in L1 while the A slivers stream
// through it from L2.
// get_b(j, k0, kn) returns rows [k0, k0 + kn) of B sliver j (kn*16 floats), packing them on demand.
template <typename GetB, typename Store>
void gemm_run(int64_t mb, int64_t nb, int64_t kd, const float* ap, int64_t as, GetB&& get_b, Store&& store) {
  const int64_t nk = std::max<int64_t>(1, ceil_div(kd, kKcMax)), kc = ceil_div(kd, nk);
  for (int64_t j = 0; j < nb; ++j)
    for (int64_t k0 = 0; k0 < kd; k0 += kc) {
      const int64_t kn = std::min(kc, kd - k0);
      const float* b = get_b(j, k0, kn);
      for (int64_t i = 0; i < mb; ++i) {
        Tile t;
        micro_6x16(kn, ap + i * as + k0 * MR, b, t);
        store(i, j, k0 == 0, k0 + kn == kd, t);
      }
    }
}

template <typename Store>
void gemm_packed(int64_t mb, int64_t nb, int64_t kd, const float* ap, int64_t as, const float* bp, int64_t bs,
                 Store&& store) {
  gemm_run(
      mb, nb, kd, ap, as, [&](int64_t j, int64_t k0, int64_t) { return bp + j * bs + k0 * NR; },
      std::forward<Store>(store));
}

// Transposing pack: dst[q][0..W) = src[r*ld + q] for q < len, rows r >= nrows read as 0 (W is 6 or 16).
// With W = 6 each 8-float store spills 2 floats into the next pixel's slot, which a later store overwrites;
// the caller leaves 2 floats of slack after the last pixel.
template <int W>
void pack_t(const float* src, int64_t ld, int64_t nrows, int64_t len, float* dst) {
  const __m256 z = _mm256_setzero_ps();
  int64_t q = 0;
  for (; q + 8 <= len; q += 8)
    for (int g = 0; g < W; g += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = g + i < std::min<int64_t>(W, nrows) ? _mm256_loadu_ps(src + (g + i) * ld + q) : z;
      transpose8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (q + i) * W + g, r[i]);
    }
  for (; q < len; ++q)
    for (int i = 0; i < W; ++i) dst[q * W + i] = i < nrows ? src[i * ld + q] : 0.f;
}

// Valid output columns [lo, hi) of kernel column r: input column j*sw + off lies in [0, w).
void valid_range(int64_t off, int64_t s, int64_t w, int64_t ow, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : ceil_div(-off, s);
  hi = w - off > 0 ? ceil_div(w - off, s) : 0;
  lo = std::min(lo, ow);
  hi = std::max(lo, std::min(hi, ow));
}

// col2im: dxn[c][..][..] += dcol rows (the adjoint of im2col); dxn must be initialised.
void col2im(const Conv2dGeom& g, const float* col, int64_t ld, int64_t q0, float* dxn) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t p = 0; p < g.kh; ++p)
      for (int64_t r = 0; r < g.kw; ++r) {
        const float* row = col + ((c * g.kh + p) * g.kw + r) * ld + q0;
        const int64_t off = r * g.dw - g.pl;
        int64_t lo, hi;
        valid_range(off, g.sw, g.w, g.ow, lo, hi);
        for (int64_t i = 0; i < g.oh; ++i) {
          const int64_t hin = i * g.sh - g.pt + p * g.dh;
          if (hin < 0 || hin >= g.h) continue;
          const float* s = row + i * g.ow;
          float* xr = dxn + (c * g.h + hin) * g.w;
          if (g.sw == 1) {
            float* d = xr + lo + off;
            const float* sl = s + lo;
            const int64_t len = hi - lo;
            int64_t j = 0;
            for (; j + 8 <= len; j += 8)
              _mm256_storeu_ps(d + j, _mm256_add_ps(_mm256_loadu_ps(d + j), _mm256_loadu_ps(sl + j)));
            for (; j < len; ++j) d[j] += sl[j];
          } else {
            for (int64_t j = lo; j < hi; ++j) xr[j * g.sw + off] += s[j];
          }
        }
      }
}

// Packs B slivers on demand from a "gather" view of the source: B[k][q] = src[koff[k] + base(q)], where the
// block's columns q are pixels (image l, row i, column jj) with base = l*img + i*row + jj*col. Each 16-column
// sliver splits into runs of consecutive columns with contiguous sources (same image and row), so a sliver
// row is a few short copies. Slivers are packed just before the micro-kernel uses them (they stay in L1).
struct SliverPacker {
  const float* src = nullptr;
  const float* src_end = nullptr;
  const int64_t* koff = nullptr;
  int64_t col = 1;  // source step between neighbouring columns of a run
  struct Run {
    int64_t dst, len, base;
  };
  std::vector<Run> runs;
  std::vector<int64_t> run_start;  // runs of sliver j: [run_start[j], run_start[j+1])

  // Columns [0, pix) of a block of images with oh x ow pixels each.
  void plan(int64_t pix, int64_t oh, int64_t ow, int64_t img, int64_t row) {
    runs.clear();
    run_start.clear();
    const int64_t nb = ceil_div(pix, NR);
    for (int64_t j = 0; j < nb; ++j) {
      run_start.push_back(int64_t(runs.size()));
      for (int64_t q = j * NR; q < std::min(pix, (j + 1) * NR);) {
        const int64_t l = q / (oh * ow), i = q % (oh * ow) / ow, jj = q % ow;
        const int64_t len = std::min({ow - jj, (j + 1) * NR - q, pix - q});
        runs.push_back({q - j * NR, len, l * img + i * row + jj * col});
        q += len;
      }
    }
    run_start.push_back(int64_t(runs.size()));
  }

  // Rows [k0, k0 + kn) of sliver j into dst (kn + 1 rows of 16: the last is slack). Each run is copied as a
  // full 16 floats whatever its length (no branch on the length, which mispredicted on every run): the
  // excess lands on later columns of the row or on the next row, both written afterwards, or past the
  // block's last column (never read back as a result). Near the end of the source the exact copy is used.
  void pack(int64_t j, int64_t k0, int64_t kn, float* dst) const {
    const Run* r0 = runs.data() + run_start[size_t(j)];
    const Run* r1 = runs.data() + run_start[size_t(j) + 1];
    int64_t max_base = 0;
    for (const Run* r = r0; r < r1; ++r) max_base = std::max(max_base, r->base + r->len * col);
    for (int64_t k = 0; k < kn; ++k) {
      const float* s = src + koff[k0 + k];
      float* d = dst + k * NR;
      if (col == 1 && s + max_base + NR <= src_end) {
        for (const Run* r = r0; r < r1; ++r) {
          const __m256 v0 = _mm256_loadu_ps(s + r->base), v1 = _mm256_loadu_ps(s + r->base + 8);
          _mm256_storeu_ps(d + r->dst, v0);
          _mm256_storeu_ps(d + r->dst + 8, v1);
        }
      } else {
        for (const Run* r = r0; r < r1; ++r)
          for (int64_t t = 0; t < r->len; ++t) d[r->dst + t] = s[r->base + t * col];
      }
    }
  }
};

// Zero-padded copy of images [0, cnt) at x into xp ((h + pt + pb) x (w + pl + pr) planes).
void pad_images(const Conv2dGeom& g, const float* x, int64_t cnt, float* xp) {
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  for (int64_t pl = 0; pl < cnt * g.c; ++pl) {
    float* d = xp + pl * hp * wp;
    const float* s = x + pl * g.h * g.w;
    std::fill(d, d + g.pt * wp, 0.f);
    for (int64_t i = 0; i < g.h; ++i) {
      float* dr = d + (g.pt + i) * wp;
      std::fill(dr, dr + g.pl, 0.f);
      std::copy(s + i * g.w, s + (i + 1) * g.w, dr + g.pl);
      std::fill(dr + g.pl + g.w, dr + wp, 0.f);
    }
    std::fill(d + (g.pt + g.h) * wp, d + hp * wp, 0.f);
  }
}

// Asks for [p, p + n) floats to be brought into L2 ahead of use: the packers read the input in short pieces
// spread over many rows, which the hardware prefetchers do not follow, so a first touch from memory stalls.
inline void prefetch_range(const float* p, int64_t n, const float* end) {
  const float* e = std::min(p + n, end);
  for (; p < e; p += 16) _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T1);
}

bool padded(const Conv2dGeom& g) {
  return g.pt || g.pb || g.pl || g.pr;
}

struct Mask {
  alignas(32) int32_t m[8];
  __m256i get() const { return _mm256_load_si256(reinterpret_cast<const __m256i*>(m)); }
};

// col2im for stride 1 as a gather: each 8-wide piece of a dX row sums its kh*kw contributions from dcol with
// masked loads (lanes whose source column falls outside the output are masked off), then is stored once; no
// zeroing of dX and no read-modify-write. masks[r * nch + ch] selects the lanes of chunk ch valid for column
// r.
void col2im_s1(const Conv2dGeom& g, const float* col, int64_t ld, int64_t q0, float* dxn,
               const std::vector<Mask>& masks) {
  const int64_t nch = ceil_div(g.w, 8);
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t hin = 0; hin < g.h; ++hin) {
      float* d = dxn + (c * g.h + hin) * g.w;
      for (int64_t ch = 0; ch < nch; ++ch) {
        const int64_t w0 = ch * 8;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t p = 0; p < g.kh; ++p) {
          const int64_t i = hin + g.pt - p * g.dh;
          if (i < 0 || i >= g.oh) continue;
          const float* rowp = col + ((c * g.kh + p) * g.kw) * ld + q0 + i * g.ow + w0 + g.pl;
          for (int64_t r = 0; r < g.kw; ++r)
            acc = _mm256_add_ps(
                acc, _mm256_maskload_ps(rowp + r * ld - r * g.dw, masks[size_t(r * nch + ch)].get()));
        }
        if (w0 + 8 <= g.w)
          _mm256_storeu_ps(d + w0, acc);
        else
          _mm256_maskstore_ps(d + w0, masks[size_t(g.kw * nch + ch)].get(), acc);
      }
    }
}

int64_t thread_count(const Conv2dGeom& g) {
  return std::max<int64_t>(1, std::min<int64_t>(num_threads(), g.n));
}

}  // namespace

bool supported(const Conv2dGeom& g) {
  return g.groups == 1 && g.n > 0 && g.oh > 0 && g.ow > 0;
}

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu) {
  const int64_t kd = g.c * g.kh * g.kw, ohw = g.oh * g.ow, mb = ceil_div(g.o, MR), chw = g.c * g.h * g.w;
  const bool pad = padded(g);
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr, chwp = g.c * hp * wp;
  // Source offset of row k = (c, p, r) of the im2col matrix.
  // Caller-thread buffers read by the worker threads: named through references (a thread_local named
  // inside the lambda would be the worker's own, empty, instance).
  thread_local std::vector<int64_t> koff_tl;
  std::vector<int64_t>& koff = koff_tl;
  koff.resize(size_t(kd));
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t p = 0; p < g.kh; ++p)
      for (int64_t r = 0; r < g.kw; ++r)
        koff[size_t((c * g.kh + p) * g.kw + r)] = c * hp * wp + p * g.dh * wp + r * g.dw;
  thread_local Buf abuf;
  float* ap = abuf.get(mb * MR * kd);
  for (int64_t i = 0; i < mb; ++i)
    for (int64_t k = 0; k < kd; ++k)
      for (int64_t r = 0; r < MR; ++r)
        ap[(i * kd + k) * MR + r] = i * MR + r < g.o ? w[(i * MR + r) * kd + k] : 0.f;
  const int64_t nt = thread_count(g), per_block = std::max<int64_t>(1, kBlockPixels / ohw);
  const float* x_end = x + g.n * chw;
  const __m256 zero = _mm256_setzero_ps();
  for_threads(nt, [&](int64_t t) {
    thread_local Buf sbuf, pbuf;
    thread_local SliverPacker pk;
    int64_t n0, n1;
    thread_images(g.n, t, nt, n0, n1);
    float* sl = sbuf.get((kKcMax + 2) * NR);
    for (int64_t nb0 = n0; nb0 < n1; nb0 += per_block) {
      const int64_t cnt = std::min(per_block, n1 - nb0), pix = cnt * ohw, nb = ceil_div(pix, NR);
      prefetch_range(x + (nb0 + cnt) * chw, std::min(per_block, n1 - nb0 - cnt) * chw, x_end);
      if (pad) {
        float* xp = pbuf.get(cnt * chwp + 8);
        pad_images(g, x + nb0 * chw, cnt, xp);
        std::fill(xp + cnt * chwp, xp + cnt * chwp + 8, 0.f);
        pk.src = xp, pk.src_end = xp + cnt * chwp + 8;
      } else {
        pk.src = x + nb0 * chw, pk.src_end = x_end;
      }
      pk.koff = koff.data();
      pk.col = g.sw;
      pk.plan(pix, g.oh, g.ow, chwp, g.sh * wp);
      auto get_b = [&](int64_t j, int64_t k0, int64_t kn) {
        pk.pack(j, k0, kn, sl);
        return static_cast<const float*>(sl);
      };
      gemm_run(
          mb, nb, kd, ap, kd * MR, get_b, [&](int64_t i, int64_t j, bool first, bool last, const Tile& tl) {
            const int64_t o0 = i * MR, q0 = j * NR, l = q0 / ohw, p = q0 - l * ohw,
                          rows = std::min(MR, g.o - o0);
            if (rows == MR && p + NR <= ohw) {
              float* yb = y + ((nb0 + l) * g.o + o0) * ohw + p;
              for (int r = 0; r < MR; ++r) {
                __m256 v0 = tl.v[2 * r], v1 = tl.v[2 * r + 1];
                float* d = yb + r * ohw;
                if (!first)
                  v0 = _mm256_add_ps(v0, _mm256_loadu_ps(d)), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(d + 8));
                if (last) {
                  if (b) {
                    const __m256 bv = _mm256_set1_ps(b[o0 + r]);
                    v0 = _mm256_add_ps(v0, bv), v1 = _mm256_add_ps(v1, bv);
                  }
                  if (relu) v0 = _mm256_max_ps(v0, zero), v1 = _mm256_max_ps(v1, zero);
                }
                _mm256_storeu_ps(d, v0);
                _mm256_storeu_ps(d + 8, v1);
              }
              return;
            }
            alignas(32) float tmp[MR * NR];
            for (int r = 0; r < 2 * MR; ++r) _mm256_store_ps(tmp + 8 * r, tl.v[r]);
            const int64_t cols = std::min(NR, pix - q0);
            for (int64_t r = 0; r < rows; ++r) {
              const float bo = b ? b[o0 + r] : 0.f;
              int64_t ll = l, pp = p;
              for (int64_t jj = 0; jj < cols; ++jj) {
                float* d = y + ((nb0 + ll) * g.o + o0 + r) * ohw + pp;
                float v = tmp[r * NR + jj] + (first ? 0.f : *d);
                if (last) {
                  v += bo;
                  if (relu) v = std::max(v, 0.f);
                }
                *d = v;
                if (++pp == ohw) pp = 0, ++ll;
              }
            }
          });
    }
  });
}

void backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx) {
  const int64_t kd = g.c * g.kh * g.kw, ohw = g.oh * g.ow, mb = ceil_div(kd, MR), chw = g.c * g.h * g.w;
  // Caller-thread buffers read by the worker threads: named through references (a thread_local named
  // inside the lambda would be the worker's own, empty, instance).
  thread_local std::vector<int64_t> koff_tl;
  std::vector<int64_t>& koff = koff_tl;
  koff.resize(size_t(g.o));
  for (int64_t o = 0; o < g.o; ++o) koff[size_t(o)] = o * ohw;
  const bool stride1 = g.sh == 1 && g.sw == 1;
  thread_local std::vector<Mask> masks_tl;
  std::vector<Mask>& masks = masks_tl;
  if (stride1) {
    const int64_t nch = ceil_div(g.w, 8);
    masks.resize(size_t((g.kw + 1) * nch));
    for (int64_t r = 0; r <= g.kw; ++r)
      for (int64_t ch = 0; ch < nch; ++ch)
        for (int64_t t = 0; t < 8; ++t) {
          const int64_t win = ch * 8 + t, j = win + g.pl - r * g.dw;
          masks[size_t(r * nch + ch)].m[t] = win < g.w && (r == g.kw || (j >= 0 && j < g.ow)) ? -1 : 0;
        }
  }
  thread_local Buf abuf;
  float* ap = abuf.get(mb * MR * g.o);
  for (int64_t i = 0; i < mb; ++i)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t r = 0; r < MR; ++r)
        ap[(i * g.o + o) * MR + r] = i * MR + r < kd ? w[o * kd + i * MR + r] : 0.f;
  const int64_t nt = thread_count(g), per_block = std::max<int64_t>(1, kBlockPixels / ohw);
  const float* dy_end = dy + g.n * g.o * ohw;
  for_threads(nt, [&](int64_t t) {
    thread_local Buf bbuf, cbuf;
    thread_local SliverPacker pk;
    int64_t n0, n1;
    thread_images(g.n, t, nt, n0, n1);
    for (int64_t nb0 = n0; nb0 < n1; nb0 += per_block) {
      const int64_t cnt = std::min(per_block, n1 - nb0), pix = cnt * ohw, nb = ceil_div(pix, NR),
                    ld = nb * NR;
      prefetch_range(dy + (nb0 + cnt) * g.o * ohw, std::min(per_block, n1 - nb0 - cnt) * g.o * ohw, dy_end);
      float* c = cbuf.get(mb * MR * ld);
      const float* dyb = dy + nb0 * g.o * ohw;
      if (cnt == 1 && dyb + (nb - 1) * NR + (g.o - 1) * ohw + NR <= dy_end) {
        // One image per block: B sliver j is columns [16j, 16j + 16) of the o rows of dY, read in place
        // (the last sliver's excess columns read the next row and give discarded results).
        for (int64_t j = 0; j < nb; ++j)
          for (int64_t i = 0; i < mb; ++i) {
            Tile tl;
            micro_6x16_idx(g.o, ap + i * g.o * MR, dyb + j * NR, koff.data(), tl);
            store_tile(tl, c + i * MR * ld + j * NR, ld, true);
          }
      } else {
        pk.src = dyb, pk.src_end = dy_end, pk.koff = koff.data(), pk.col = 1;
        pk.plan(pix, 1, ohw, g.o * ohw, 0);
        // The whole block is packed first (dY is read row by row; the slivers are small with depth o).
        float* bp = bbuf.get(nb * (g.o + 1) * NR);
        for (int64_t j = 0; j < nb; ++j) pk.pack(j, 0, g.o, bp + j * (g.o + 1) * NR);
        gemm_packed(mb, nb, g.o, ap, g.o * MR, bp, (g.o + 1) * NR,
                    [&](int64_t i, int64_t j, bool first, bool, const Tile& tl) {
                      store_tile(tl, c + i * MR * ld + j * NR, ld, first);
                    });
      }
      if (stride1) {
        for (int64_t l = 0; l < cnt; ++l) col2im_s1(g, c, ld, l * ohw, dx + (nb0 + l) * chw, masks);
      } else {
        std::fill(dx + nb0 * chw, dx + (nb0 + cnt) * chw, 0.f);
        for (int64_t l = 0; l < cnt; ++l) col2im(g, c, ld, l * ohw, dx + (nb0 + l) * chw);
      }
    }
  });
}

// dW[o][c][p][r] = sum over images and output pixels q of dY[o][q] * x[c][in(q) + (p, r)], as a GEMM with
// rows o (A = dY transposed into 6-wide slivers), columns (tap (p, r), channel c) and depth q. B is read in
// place from an NHWC copy of the input: for a tap and 16 channels, depth step q is the 16 contiguous channels
// of the input pixel under output pixel q, so no im2col matrix is built.
void backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db) {
  const int64_t ohw = g.oh * g.ow, chw = g.c * g.h * g.w, mb = ceil_div(g.o, MR), cp = ceil_div(g.c, NR) * NR,
                ncb = cp / NR, taps = g.kh * g.kw, nbs = taps * ncb, ldc = nbs * NR;
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  const int64_t nt = thread_count(g), per_block = std::max<int64_t>(1, 256 / ohw);
  // Per-thread partial sums (o x (tap, c), padded) and bias gradients, added in thread order at the end.
  const ThreadPartials parts(nt, mb * MR * ldc, g.o);
  for_threads(nt, [&](int64_t t) {
    thread_local Buf xbuf, abuf;
    thread_local std::vector<int64_t> boff;
    int64_t n0, n1;
    thread_images(g.n, t, nt, n0, n1);
    float* c = parts.w[size_t(t)];
    std::vector<double>& bsum = parts.bias(t);
    for (int64_t nb0 = n0; nb0 < n1; nb0 += per_block) {
      const int64_t cnt = std::min(per_block, n1 - nb0), kc = cnt * ohw, as = kc * MR + 8;
      float* xt = xbuf.get(cnt * hp * wp * cp);
      to_nhwc(g, x + nb0 * chw, cnt, cp, xt);
      float* ap = abuf.get(mb * as);
      boff.resize(size_t(kc));
      for (int64_t l = 0; l < cnt; ++l) {
        const float* dyn = dy + (nb0 + l) * g.o * ohw;
        for (int64_t i = 0; i < mb; ++i)
          pack_t<MR>(dyn + i * MR * ohw, ohw, std::min(MR, g.o - i * MR), ohw, ap + i * as + l * ohw * MR);
        for (int64_t i = 0; i < g.oh; ++i)
          for (int64_t j = 0; j < g.ow; ++j)
            boff[size_t(l * ohw + i * g.ow + j)] = l * hp * wp * cp + (i * g.sh * wp + j * g.sw) * cp;
        if (db)
          for (int64_t o = 0; o < g.o; ++o) {
            const float* d = dyn + o * ohw;
            float sacc = 0;
#pragma omp simd reduction(+ : sacc)
            for (int64_t q = 0; q < ohw; ++q) sacc += d[q];
            bsum[size_t(o)] += sacc;
          }
      }
      const bool fresh = nb0 == n0;
      for (int64_t j = 0; j < nbs; ++j) {
        const int64_t tap = j / ncb, cb = j % ncb, p = tap / g.kw, r = tap % g.kw;
        const float* bb = xt + (p * g.dh * wp + r * g.dw) * cp + cb * NR;
        for (int64_t i = 0; i < mb; ++i) {
          Tile tl;
          micro_6x16_idx(kc, ap + i * as, bb, boff.data(), tl);
          store_tile(tl, c + i * MR * ldc + j * NR, ldc, fresh);
        }
      }
    }
  });
  for (int64_t o = 0; o < g.o; ++o) {
    for (int64_t ci = 0; ci < g.c; ++ci)
      for (int64_t tap = 0; tap < taps; ++tap) {
        const int64_t m = o * ldc + tap * cp + ci;
        float sv = parts.w[0][m];
        for (int64_t t = 1; t < nt; ++t) sv += parts.w[size_t(t)][m];
        dw[(o * g.c + ci) * taps + tap] = sv;
      }
  }
  if (db) parts.sum_bias(g.o, db);
}

#else  // no AVX2: conv.cpp keeps its oneDNN paths

bool supported(const Conv2dGeom&) {
  return false;
}
void forward(const Conv2dGeom&, const float*, const float*, const float*, float*, bool) {}
void backward_data(const Conv2dGeom&, const float*, const float*, float*) {}
void backward_weights(const Conv2dGeom&, const float*, const float*, float*, float*) {}

#endif

}  // namespace ember::kernels::conv_gemm
