#include "ember/kernels/random.h"

#include <cmath>

#include "ember/kernels/parallel.h"

namespace ember::kernels {

namespace {
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

void bernoulli_keep(uint64_t key, double p, bool* keep, int64_t n) {
  // Dropped iff the 32-bit draw is below the threshold; p = 1 gives 2^32 (nothing kept).
  const uint64_t thr = p <= 0.0 ? 0 : p >= 1.0 ? (uint64_t(1) << 32) : uint64_t(std::ceil(p * 4294967296.0));
  const int64_t pairs = (n + 1) / 2;
  parallel_for(0, pairs, 16384, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) {
      const uint64_t u = mix64(key + uint64_t(j + 1) * 0x9e3779b97f4a7c15ULL);
      const int64_t i = 2 * j;
      keep[i] = (u & 0xffffffffULL) >= thr;
      if (i + 1 < n) keep[i + 1] = (u >> 32) >= thr;
    }
  });
}

}  // namespace ember::kernels
