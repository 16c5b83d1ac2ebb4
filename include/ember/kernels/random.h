// Random masks drawn in parallel and still reproducible: element i's draw is a hash of (key, i) (SplitMix64's
// output function over a counter), so the mask depends on the key alone, not on the thread count or the
// order the threads run in. The caller draws the key from its Generator (one draw per mask).
//
//   kernels::bernoulli_keep(gen.next_u64(), /*drop p=*/0.1, keep, n);  // keep[i] with probability 0.9
#pragma once

#include <cstdint>

namespace ember::kernels {

// keep[i] = true with probability 1 - p (32-bit resolution: dropped iff draw < p * 2^32), for i < n.
void bernoulli_keep(uint64_t key, double p, bool* keep, int64_t n);

}  // namespace ember::kernels
