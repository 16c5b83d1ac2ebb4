#include "ember/kernels/gemm.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "ember/core/error.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
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
  const int prev_threads = serial ? omp_get_max_threads() : 0;
  if (serial && prev_threads > 1) omp_set_num_threads(1);
  dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (serial && prev_threads > 1) omp_set_num_threads(prev_threads);
  if (st != dnnl_success)
    throw Error(detail::concat("gemm: dnnl_sgemm failed with status ", static_cast<int>(st), " for m=", m, " n=", n,
                               " k=", k));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_ref<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace ember::kernels
