// Matrix-vector product for batch-1 layers: y = act(W x + b), W (n, k) row-major. dnnl_sgemm costs
// microseconds of setup per call, more than the whole product for a small layer; this kernel streams W once,
// four rows at a time (AVX2 + FMA when the compiler targets it). Every row is summed in the same order
// whichever path or thread handles it, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>

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

}  // namespace

void gemv(int64_t n, int64_t k, const float* w, int64_t ldw, const float* x, const float* bias, bool relu,
          float* y) {
  if (n <= 0) return;
  // Waking the other (sleeping, OMP_WAIT_POLICY=passive) thread of this VM took 10-100 µs, with a long tail:
  // the seed CNN's 5408x128 layer (2.8 MB, ~50 µs on one core) measured 82-198 µs of median batch-1 latency
  // split over 2 threads against 68-86 µs on one. Split the rows (in blocks of four) only above 8 MB of
  // weight, where one core needs 150+ µs.
  constexpr int64_t kParallelMacs = int64_t(1) << 21;
  const int64_t blocks = (n + 3) / 4;
  if (n * k < kParallelMacs || blocks < 2 || omp_in_parallel()) {
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
