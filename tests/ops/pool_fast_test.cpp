// The vectorised 2x2/2 max pool forward (8 outputs at a time) against the reference kernel: widths around the
// 8-output step, odd sizes, ties, signed zeros and NaN, with and without argmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ember/kernels/conv.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

using namespace ember;

namespace {
// Bitwise comparison (NaN == NaN, -0 != +0).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
}  // namespace

TEST(MaxPool2dFast, Matches2x2ReferenceBitwise) {
  Generator gen(9);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t h : {2, 3, 8, 26, 27})
    for (int64_t w : {2, 15, 16, 17, 26, 33, 40}) {
      kernels::Pool2dGeom g{3, h, w, 2, 2, 2, 2, 0, 0, h / 2, w / 2};
      Tensor xt = randn({3, h, w}, &gen);
      std::vector<float> x = xt.to_vector<float>();
      // Ties (with the tied values at different window positions), signed zeros and NaNs.
      for (size_t i = 0; i < x.size(); ++i) {
        const uint64_t r = (i * 2654435761u) % 23;
        if (r == 0) x[i] = nan;
        if (r == 1) x[i] = 0.f;
        if (r == 2) x[i] = -0.f;
        if (r == 3 || r == 4) x[i] = 0.5f;
      }
      const size_t n_out = size_t(3 * g.oh * g.ow);
      std::vector<float> y(n_out), yr(n_out), yn(n_out);
      std::vector<int32_t> a(n_out), ar(n_out);
      kernels::max_pool2d_forward<float>(g, x.data(), y.data(), a.data());
      kernels::max_pool2d_forward<float>(g, x.data(), yn.data(), nullptr);
      kernels::max_pool2d_forward_ref<float>(g, x.data(), yr.data(), ar.data());
      EXPECT_TRUE(same_bits(y, yr)) << "h=" << h << " w=" << w;
      EXPECT_TRUE(same_bits(yn, yr)) << "no argmax, h=" << h << " w=" << w;
      EXPECT_EQ(a, ar) << "h=" << h << " w=" << w;
    }
}

// Enough planes to split over the threads: each thread's vectorised rows must stop at its own chunk's end.
TEST(MaxPool2dFast, ManyPlanesSplitOverThreads) {
  Generator gen(10);
  const int saved = num_threads();
  set_num_threads(std::max(saved, 2));
  for (int64_t w : {26, 27, 21}) {
    kernels::Pool2dGeom g{197, 26, w, 2, 2, 2, 2, 0, 0, 13, w / 2};
    std::vector<float> x = randn({197, 26, w}, &gen).to_vector<float>();
    const size_t n_out = size_t(197 * g.oh * g.ow);
    std::vector<float> y(n_out), yr(n_out), yn(n_out);
    std::vector<int32_t> a(n_out), ar(n_out);
    kernels::max_pool2d_forward<float>(g, x.data(), y.data(), a.data());
    kernels::max_pool2d_forward<float>(g, x.data(), yn.data(), nullptr);
    kernels::max_pool2d_forward_ref<float>(g, x.data(), yr.data(), ar.data());
    EXPECT_TRUE(same_bits(y, yr)) << "w=" << w;
    EXPECT_TRUE(same_bits(yn, yr)) << "w=" << w;
    EXPECT_EQ(a, ar) << "w=" << w;
  }
  set_num_threads(saved);
}
