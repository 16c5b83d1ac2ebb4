#include "ember/kernels/parallel.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>

namespace ember {

namespace {
int initial_threads() {
  if (const char* s = std::getenv("EMBER_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) {
      omp_set_num_threads(n);
      return n;
    }
  }
  return omp_get_max_threads();
}
int& thread_count() {
  static int n = initial_threads();
  return n;
}
}  // namespace

int num_threads() { return thread_count(); }

void set_num_threads(int n) {
  n = std::max(1, n);
  thread_count() = n;
  omp_set_num_threads(n);
}

namespace detail {
void parallel_run(int64_t begin, int64_t end, void* ctx, void (*fn)(void*, int64_t, int64_t)) {
  int nt = num_threads();
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int n = omp_get_num_threads();
    int64_t len = end - begin;
    int64_t lo = begin + len * t / n;
    int64_t hi = begin + len * (t + 1) / n;
    if (hi > lo) fn(ctx, lo, hi);
  }
}
}  // namespace detail

}  // namespace ember
