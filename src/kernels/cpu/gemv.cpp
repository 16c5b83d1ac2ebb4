// Matrix-vector product for batch-1 layers: y = act(W x + b), W (n, k) row-major. dnnl_sgemm costs
// microseconds of setup per call, more than the whole product for a small layer; this kernel streams W once,
// four rows at a time (AVX2 + FMA when the compiler targets it). Every row is summed in the same order
// whichever path or thread handles it, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EMBER_GEMV_AVX2 1
#endif

namespace ember::kernels {

namespace {

#ifdef EMBER_GEMV_AVX2
// Lane mask for the first r (0..7) floats.
inline __m256i tail_mask(int64_t r) {
  alignas(32) static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + 8 - r));
}

// The four horizontal sums {sum(v0), sum(v1), sum(v2), sum(v3)}, each as ((e0+e1)+(e2+e3))+((e4+e5)+(e6+e7)).
inline __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// Rows [r0, r1) of y. Per row: two accumulators over alternating 8-blocks, a last full block into the first,
// the k % 8 tail (masked) into the second, then hsum(a0 + a1) + b.
void gemv_rows(int64_t r0, int64_t r1, int64_t k, const float* w, int64_t ldw, const float* x, const float* b,
               bool relu, float* y) {
  const int64_t k16 = k & ~int64_t(15), k8 = k & ~int64_t(7), rem = k - k8;
  const __m256i mask = tail_mask(rem);
  const __m256 xt = rem ? _mm256_maskload_ps(x + k8, mask) : _mm256_setzero_ps();
  auto finish = [&](int64_t j, float s) {
    if (b) s += b[j];
    // s < 0 ? 0 : s keeps NaN, as relu does.
    y[j] = relu && s < 0.f ? 0.f : s;
  };
  int64_t j = r0;
  for (; j + 4 <= r1; j += 4) {
    const float* w0 = w + j * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a10 = _mm256_setzero_ps(),
           a11 = _mm256_setzero_ps(), a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(),
           a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p < k16; p += 16) {
      const __m256 xa = _mm256_loadu_ps(x + p), xb = _mm256_loadu_ps(x + p + 8);
      a00 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), xa, a00);
      a10 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + p), xa, a10);
      a20 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p), xa, a20);
      a30 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + p), xa, a30);
      a01 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 8), xb, a01);
      a11 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + p + 8), xb, a11);
      a21 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p + 8), xb, a21);
      a31 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + p + 8), xb, a31);
    }
    if (p < k8) {
      const __m256 xa = _mm256_loadu_ps(x + p);
      a00 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), xa, a00);
      a10 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + p), xa, a10);
      a20 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p), xa, a20);
      a30 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + p), xa, a30);
    }
    if (rem) {
      a01 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k8, mask), xt, a01);
      a11 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + k8, mask), xt, a11);
      a21 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + k8, mask), xt, a21);
      a31 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + k8, mask), xt, a31);
    }
    alignas(16) float s[4];
    _mm_store_ps(s, hsum4(_mm256_add_ps(a00, a01), _mm256_add_ps(a10, a11), _mm256_add_ps(a20, a21),
                          _mm256_add_ps(a30, a31)));
    for (int i = 0; i < 4; ++i) finish(j + i, s[i]);
  }
  for (; j < r1; ++j) {
    const float* w0 = w + j * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p < k16; p += 16) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), _mm256_loadu_ps(x + p), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p + 8), _mm256_loadu_ps(x + p + 8), a1);
    }
    if (p < k8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + p), _mm256_loadu_ps(x + p), a0);
    if (rem) a1 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k8, mask), xt, a1);
    const __m256 a = _mm256_add_ps(a0, a1);
    finish(j, _mm_cvtss_f32(hsum4(a, a, a, a)));
  }
}
#else
// Portable version: one row at a time, eight partial sums the compiler can keep in a vector register.
void gemv_rows(int64_t r0, int64_t r1, int64_t k, const float* w, int64_t ldw, const float* x, const float* b,
               bool relu, float* y) {
  for (int64_t j = r0; j < r1; ++j) {
    const float* wj = w + j * ldw;
    float acc[8] = {};
    int64_t p = 0;
    for (; p + 8 <= k; p += 8)
      for (int i = 0; i < 8; ++i) acc[i] += wj[p + i] * x[p + i];
    for (int i = 0; p < k; ++p, ++i) acc[i] += wj[p] * x[p];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    if (b) s += b[j];
    y[j] = relu && s < 0.f ? 0.f : s;
  }
}
#endif

#ifdef EMBER_GEMV_AVX2
// Transposed kernel for a block of NB * 8 output columns starting at j0: acc += x[i] * wt[i][j0 .. j0 + 8 NB)
// over the nonzero inputs listed in (idx, val), in list order (one chain per output, FMA each step), then
// bias and relu, stored to y[j0, n).
template <int NB>
void gemv_t_block(int64_t j0, int64_t n, const float* wt, int64_t ldt, const int32_t* idx, const float* val,
                  int64_t nnz, const float* b, bool relu, float* y) {
  __m256 acc[NB];
#pragma GCC unroll 16
  for (int v = 0; v < NB; ++v) acc[v] = _mm256_setzero_ps();
  const float* base = wt + j0;
  for (int64_t t = 0; t < nnz; ++t) {
    const float* row = base + int64_t(idx[t]) * ldt;
    // The rows used are scattered (only the nonzero inputs), which the hardware prefetcher does not follow;
    // fetch the one needed a few steps ahead.
    if (t + 6 < nnz) {
      const char* ahead = reinterpret_cast<const char*>(base + int64_t(idx[t + 6]) * ldt);
      for (int c = 0; c < NB * 32; c += 64) _mm_prefetch(ahead + c, _MM_HINT_T0);
    }
    const __m256 xv = _mm256_broadcast_ss(val + t);
#pragma GCC unroll 16
    for (int v = 0; v < NB; ++v) acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(row + 8 * v), xv, acc[v]);
  }
  // Through memory, so that the accumulators above stay in registers (a variable index here made GCC keep
  // them on the stack inside the loop).
  alignas(32) float s[NB * 8];
#pragma GCC unroll 16
  for (int v = 0; v < NB; ++v) _mm256_store_ps(s + 8 * v, acc[v]);
  const int64_t m = std::min<int64_t>(NB * 8, n - j0);
  for (int64_t i = 0; i < m; ++i) {
    float v = s[i];
    if (b) v += b[j0 + i];
    // v < 0 ? 0 : v keeps NaN, as relu does.
    y[j0 + i] = relu && v < 0.f ? 0.f : v;
  }
}

// For each 8-bit mask, the positions of its set bits first (in increasing order), then the others.
struct CompressTable {
  uint8_t pos[256][8];
  constexpr CompressTable() : pos() {
    for (int m = 0; m < 256; ++m) {
      int c = 0;
      for (int i = 0; i < 8; ++i)
        if (m >> i & 1) pos[m][c++] = uint8_t(i);
      for (int i = 0; i < 8; ++i)
        if (!(m >> i & 1)) pos[m][c++] = uint8_t(i);
    }
  }
};
constexpr CompressTable kCompress;

// The positions and values of the nonzero entries of x[0, k) (NaN counts as nonzero); returns how many. idx
// and val need k + 8 entries: each step of eight stores all eight lanes, the nonzero ones first (no branch
// per element: about half of them are zero, in no pattern the predictor learns).
int64_t nonzeros(int64_t k, const float* x, int32_t* idx, float* val) {
  int64_t m = 0, p = 0;
  const __m256 zero = _mm256_setzero_ps();
  for (; p + 8 <= k; p += 8) {
    const __m256 v = _mm256_loadu_ps(x + p);
    // _CMP_NEQ_UQ: true for nonzero and for NaN.
    const int bits = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
    const __m256i perm =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kCompress.pos[bits])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + m),
                        _mm256_add_epi32(perm, _mm256_set1_epi32(int32_t(p))));
    _mm256_storeu_ps(val + m, _mm256_permutevar8x32_ps(v, perm));
    m += __builtin_popcount(unsigned(bits));
  }
  for (; p < k; ++p)
    if (!(x[p] == 0.f)) idx[m] = int32_t(p), val[m++] = x[p];
  return m;
}

void gemv_t_rows(int64_t n, int64_t ldt, const float* wt, const int32_t* idx, const float* val, int64_t nnz,
                 const float* b, bool relu, float* y) {
  // Blocks of 128 columns, then of up to 64: one pass over contiguous 512-byte rows measured ~20% faster
  // than two passes over half rows (128x784), although the sixteen accumulators and the broadcast input need
  // one ymm register more than there are.
  int64_t j0 = 0;
  for (; j0 + 128 <= n; j0 += 128) gemv_t_block<16>(j0, n, wt, ldt, idx, val, nnz, b, relu, y);
  for (; j0 < n; j0 += 64) {
    using Block = void (*)(int64_t, int64_t, const float*, int64_t, const int32_t*, const float*, int64_t,
                           const float*, bool, float*);
    static constexpr Block kBlocks[8] = {gemv_t_block<1>, gemv_t_block<2>, gemv_t_block<3>, gemv_t_block<4>,
                                         gemv_t_block<5>, gemv_t_block<6>, gemv_t_block<7>, gemv_t_block<8>};
    kBlocks[std::min<int64_t>(8, (n - j0 + 7) / 8) - 1](j0, n, wt, ldt, idx, val, nnz, b, relu, y);
  }
}
#else
int64_t nonzeros(int64_t k, const float* x, int32_t* idx, float* val) {
  int64_t m = 0;
  for (int64_t p = 0; p < k; ++p)
    if (!(x[p] == 0.f)) idx[m] = int32_t(p), val[m++] = x[p];
  return m;
}

void gemv_t_rows(int64_t n, int64_t ldt, const float* wt, const int32_t* idx, const float* val, int64_t nnz,
                 const float* b, bool relu, float* y) {
  for (int64_t j = 0; j < n; ++j) y[j] = 0.f;
  for (int64_t t = 0; t < nnz; ++t) {
    const float* row = wt + int64_t(idx[t]) * ldt;
    for (int64_t j = 0; j < n; ++j) y[j] += val[t] * row[j];
  }
  for (int64_t j = 0; j < n; ++j) {
    float s = y[j];
    if (b) s += b[j];
    y[j] = relu && s < 0.f ? 0.f : s;
  }
}
#endif

}  // namespace

int64_t gemv_transposed_ld(int64_t n) {
  return (std::max<int64_t>(n, 1) + 7) & ~int64_t(7);
}

bool gemv_pack_transposed(int64_t n, int64_t k, const float* w, int64_t ldw, float* wt) {
  const int64_t ldt = gemv_transposed_ld(n);
  bool finite = true;
  // Blocks of 8 x 8 so that both the reads and the writes stay within a few cache lines at a time.
  for (int64_t p0 = 0; p0 < k; p0 += 8)
    for (int64_t j0 = 0; j0 < ldt; j0 += 8)
      for (int64_t p = p0; p < std::min(p0 + 8, k); ++p)
        for (int64_t j = j0; j < j0 + 8; ++j) {
          const float v = j < n ? w[j * ldw + p] : 0.f;
          finite &= std::isfinite(v);
          wt[p * ldt + j] = v;
        }
  return finite;
}

bool gemv_transposed_skip_zeros(int64_t n, int64_t k, const float* wt, const float* x, const float* bias,
                                bool relu, float* y, double max_density) {
  if (n <= 0) return true;
  // The list of nonzero inputs: on the stack for the usual layer widths.
  constexpr int64_t kStack = 2048;
  int32_t idx_s[kStack + 8];
  float val_s[kStack + 8];
  std::vector<int32_t> idx_h;
  std::vector<float> val_h;
  int32_t* idx = idx_s;
  float* val = val_s;
  if (k > kStack) {
    idx_h.resize(k + 8);
    val_h.resize(k + 8);
    idx = idx_h.data();
    val = val_h.data();
  }
  const int64_t nnz = nonzeros(k, x, idx, val);
  if (double(nnz) > max_density * double(k)) return false;
  const int64_t ldt = gemv_transposed_ld(n);
  // Above ~256K multiply-adds (the seed CNN's 5408x128 layer: ~1.4 MB of rows from L3, 37-46 µs median on one
  // core) the rows are split in two halves whose partial sums are added: split_run's spinning helper takes
  // one (21-24 µs median for both, measured), or the caller takes both when the helper is not there in time.
  // The halves are fixed, so the result does not depend on who ran them.
  constexpr int64_t kSplitMacs = int64_t(1) << 18;
  if (n * nnz < kSplitMacs || num_threads() < 2 || n > 4096) {
    gemv_t_rows(n, ldt, wt, idx, val, nnz, bias, relu, y);
    return true;
  }
  alignas(32) float part[2][4096];
  const int64_t half = nnz / 2;
  split_run(2, [&](int64_t c) {
    const int64_t lo = c == 0 ? 0 : half, hi = c == 0 ? half : nnz;
    gemv_t_rows(n, ldt, wt, idx + lo, val + lo, hi - lo, nullptr, false, part[c]);
  });
  for (int64_t j = 0; j < n; ++j) {
    float v = part[0][j] + part[1][j];
    if (bias) v += bias[j];
    y[j] = relu && v < 0.f ? 0.f : v;  // keeps NaN, as relu does
  }
  return true;
}

void gemv(int64_t n, int64_t k, const float* w, int64_t ldw, const float* x, const float* bias, bool relu,
          float* y) {
  if (n <= 0) return;
  // Waking the other (sleeping, OMP_WAIT_POLICY=passive) thread of this VM took 10-100 µs, with a long tail:
  // the seed CNN's 5408x128 layer (2.8 MB, ~50 µs on one core) measured 82-198 µs of median batch-1 latency
  // split over 2 threads against 68-86 µs on one. Split the rows (in blocks of four) only above 8 MB of
  // weight, where one core needs 150+ µs.
  constexpr int64_t kParallelMacs = int64_t(1) << 21;
  const int64_t blocks = (n + 3) / 4;
  if (n * k < kParallelMacs || blocks < 2 || in_parallel()) {
    gemv_rows(0, n, k, w, ldw, x, bias, relu, y);
    return;
  }
  parallel_for(0, blocks, 0, [&](int64_t lo, int64_t hi) {
    gemv_rows(4 * lo, std::min(4 * hi, n), k, w, ldw, x, bias, relu, y);
  });
}

void gemv(int64_t n, int64_t k, const double* w, int64_t ldw, const double* x, const double* bias, bool relu,
          double* y) {
  gemv_ref<double>(n, k, w, ldw, x, bias, relu, y);
}

}  // namespace ember::kernels
