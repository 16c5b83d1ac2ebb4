#include "ember/core/random.h"

#include <cmath>
#include <numbers>

#include "ember/core/dispatch.h"

namespace ember {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::seed_(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
  has_spare_ = false;
}

uint64_t Generator::next_u64() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  double u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  double r = std::sqrt(-2.0 * std::log(u1));
  double th = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(th);
  has_spare_ = true;
  return r * std::cos(th);
}

int64_t Generator::randint(int64_t low, int64_t high) {
  EMBER_CHECK(high > low, ValueError, "randint: empty range [", low, ", ", high, ")");
  uint64_t span = static_cast<uint64_t>(high - low);
  // Rejection sampling removes the modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t v;
  do v = next_u64();
  while (v >= limit);
  return low + static_cast<int64_t>(v % span);
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().seed_(seed); }

namespace {
template <typename F>
Tensor fill_with(const Shape& shape, DType dtype, F&& draw) {
  Tensor t = empty(shape, dtype);
  int64_t n = t.numel();
  dispatch_floating(dtype, "random", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(draw());
  });
  return t;
}
}  // namespace

Tensor rand(const Shape& shape, Generator* gen, DType dtype) { return uniform(shape, 0.0, 1.0, gen, dtype); }
Tensor randn(const Shape& shape, Generator* gen, DType dtype) { return normal(shape, 0.0, 1.0, gen, dtype); }
Tensor uniform(const Shape& shape, double low, double high, Generator* gen, DType dtype) {
  Generator& g = gen ? *gen : default_generator();
  return fill_with(shape, dtype, [&] { return low + (high - low) * g.uniform(); });
}
Tensor normal(const Shape& shape, double mean, double std, Generator* gen, DType dtype) {
  Generator& g = gen ? *gen : default_generator();
  return fill_with(shape, dtype, [&] { return mean + std * g.normal(); });
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape, DType::Int64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = g.randint(low, high);
  return t;
}
Tensor randperm(int64_t n, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = arange(n);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.randint(0, i + 1)]);
  return t;
}

}  // namespace ember
