// Parallel loops over the cores. Work is split statically, so results are bitwise identical for a given
// thread count. With 2 threads (this machine) the loops run on split_run's spinning helper (below); otherwise
// on OpenMP's pool (the one oneDNN uses).
//
//   ember::parallel_for(0, n, 32768, [&](int64_t lo, int64_t hi) { for (i = lo; i < hi; ++i) ...; });
#pragma once

#include <cstdint>
#include <type_traits>

namespace ember {

// Number of threads Ember's kernels use (defaults to OpenMP's; EMBER_NUM_THREADS or OMP_NUM_THREADS set it).
int num_threads();
void set_num_threads(int n);

// True inside a parallel_for / split_run chunk or an OpenMP parallel region: a kernel called from there runs
// on the calling thread only (e.g. gemm keeps dnnl_sgemm from starting an OpenMP team of its own).
bool in_parallel();

namespace detail {
void parallel_run(int64_t begin, int64_t end, void* ctx, void (*fn)(void*, int64_t, int64_t));
void split_run(int64_t chunks, void* ctx, void (*fn)(void*, int64_t));
}  // namespace detail

// Calls f(lo, hi) on disjoint chunks covering [begin, end). Runs inline when the range is below `grain`
// elements or only one thread is available.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  if (end - begin <= grain || num_threads() <= 1) {
    if (end > begin) f(begin, end);
    return;
  }
  detail::parallel_run(begin, end, &f, [](void* ctx, int64_t lo, int64_t hi) {
    (*static_cast<std::remove_reference_t<F>*>(ctx))(lo, hi);
  });
}

// Calls f(i) once for each i in [0, chunks), for latency-bound work of some tens of µs (batch-1 inference):
// on the calling thread and on one helper thread that keeps spinning for a short while (~100 µs) after each
// call, so that back-to-back calls do not pay the 10-100 µs of waking a sleeping OpenMP thread on these VMs.
// The caller runs every chunk the helper has not claimed, so a sleeping or descheduled helper costs only the
// wake-up notice; which thread runs a chunk must not change the result. If chunks throw, the first exception
// is rethrown once every started chunk has finished (the inline loop below stops at the first). Runs the
// chunks in order on the calling thread when only one thread is available, inside a parallel region, when
// another call holds the helper (concurrent callers, or f calling split_run), or for more than 65535 chunks.
template <typename F>
void split_run(int64_t chunks, F&& f) {
  detail::split_run(chunks, &f,
                    [](void* ctx, int64_t i) { (*static_cast<std::remove_reference_t<F>*>(ctx))(i); });
}

}  // namespace ember
