// Seeded random numbers. Every random factory and layer takes an optional Generator; without one, the global
// generator is used, which manual_seed() resets. The same seed gives the same numbers on every run.
//
//   ember::manual_seed(42);
//   auto x = ember::randn({4, 4});
//   ember::Generator g(7);
//   auto y = ember::rand({3}, &g);
#pragma once

#include <cstdint>

#include "ember/core/tensor.h"

namespace ember {

// xoshiro256** seeded through splitmix64: fast, small state, good statistical quality.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { seed_(seed); }
  void seed_(uint64_t seed);
  uint64_t next_u64();
  // Uniform in [0, 1).
  double uniform();
  // Standard normal (Box-Muller).
  double normal();
  // Uniform integer in [low, high).
  int64_t randint(int64_t low, int64_t high);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor rand(const Shape& shape, Generator* gen = nullptr, DType dtype = DType::Float32);
Tensor randn(const Shape& shape, Generator* gen = nullptr, DType dtype = DType::Float32);
Tensor uniform(const Shape& shape, double low, double high, Generator* gen = nullptr, DType dtype = DType::Float32);
Tensor normal(const Shape& shape, double mean, double std, Generator* gen = nullptr, DType dtype = DType::Float32);
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* gen = nullptr);

}  // namespace ember
