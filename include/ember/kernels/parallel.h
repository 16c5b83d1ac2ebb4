// Parallel loops over the 2 cores through OpenMP (the same pool oneDNN uses). Work is split statically, so
// results are bitwise identical for a given thread count.
//
//   ember::parallel_for(0, n, 32768, [&](int64_t lo, int64_t hi) { for (i = lo; i < hi; ++i) ...; });
#pragma once

#include <cstdint>
#include <type_traits>

namespace ember {

// Number of threads Ember's kernels use (defaults to OpenMP's; EMBER_NUM_THREADS or OMP_NUM_THREADS set it).
int num_threads();
void set_num_threads(int n);

namespace detail {
void parallel_run(int64_t begin, int64_t end, void* ctx, void (*fn)(void*, int64_t, int64_t));
}

// Calls f(lo, hi) on disjoint chunks covering [begin, end). Runs inline when the range is below `grain`
// elements or only one thread is available.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  if (end - begin <= grain || num_threads() <= 1) {
    if (end > begin) f(begin, end);
    return;
  }
  detail::parallel_run(begin, end, &f, [](void* ctx, int64_t lo, int64_t hi) { (*static_cast<std::remove_reference_t<F>*>(ctx))(lo, hi); });
}

}  // namespace ember
