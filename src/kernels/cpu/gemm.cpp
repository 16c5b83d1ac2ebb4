#include "ember/kernels/gemm.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>

#include "ember/core/error.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
    return;
  }
  // A small product (a batch-1 layer, a bias-sized update) finishes in a few microseconds on one core, less
  // than waking the other OpenMP thread costs on a busy machine: run it on the calling thread only.
  // omp_set_num_threads only changes this thread's ICV, which dnnl_sgemm reads for its thread count.
  // Inside a parallel_for chunk (which may run on split_run's helper, not an OpenMP thread) it runs serially
  // too; inside an OpenMP region dnnl_sgemm is serial by itself.
  constexpr int64_t kSerialMacs = int64_t(1) << 18;
  const bool serial = (m * n * k <= kSerialMacs || in_parallel()) && !omp_in_parallel();
  // Two threads: the larger of C's dimensions is halved on split_run (each half a serial dnnl_sgemm, called
  // back through here inside the chunk) rather than handed to dnnl_sgemm's OpenMP team, whose sleeping worker
  // takes 10-100 µs to wake on these VMs. Every element of C is still summed over k by one serial call.
  if (!serial && !omp_in_parallel() && num_threads() == 2 && std::max(m, n) >= 32) {
    split_run(2, [&](int64_t h) {
      if (m >= n) {
        const int64_t m0 = h * (m / 2), mh = h == 0 ? m / 2 : m - m / 2;
        gemm(ta, tb, mh, n, k, alpha, ta ? a + m0 : a + m0 * lda, lda, b, ldb, beta, c + m0 * ldc, ldc);
      } else {
        const int64_t n0 = h * (n / 2), nh = h == 0 ? n / 2 : n - n / 2;
        gemm(ta, tb, m, nh, k, alpha, a, lda, tb ? b + n0 * ldb : b + n0, ldb, beta, c + n0, ldc);
      }
    });
    return;
  }
  const int prev_threads = serial ? omp_get_max_threads() : 0;
  if (serial && prev_threads > 1) omp_set_num_threads(1);
  dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (serial && prev_threads > 1) omp_set_num_threads(prev_threads);
  if (st != dnnl_success)
    throw Error(detail::concat("gemm: dnnl_sgemm failed with status ", static_cast<int>(st), " for m=", m,
                               " n=", n, " k=", k));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_ref<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace ember::kernels
