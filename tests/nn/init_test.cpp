#include <gtest/gtest.h>

#include <cmath>

#include "ember/nn/nn.h"

using namespace ember;
namespace init = ember::nn::init;

namespace {
struct Stats {
  double mean, sd, maxabs;
};
Stats stats(const Tensor& t) {
  auto v = t.to_double_vector();
  double m = 0, sq = 0, mx = 0;
  for (double e : v) {
    m += e;
    sq += e * e;
    mx = std::max(mx, std::abs(e));
  }
  double n = static_cast<double>(v.size());
  m /= n;
  return {m, std::sqrt(sq / n - m * m), mx};
}
}  // namespace

TEST(Init, GainAndFans) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_THROW(init::calculate_gain("swishy"), ValueError);
  auto [in, out] = init::calculate_fan_in_and_fan_out(zeros({16, 3, 5, 5}));
  EXPECT_EQ(in, 75);
  EXPECT_EQ(out, 400);
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(zeros({4})), ShapeError);
}

TEST(Init, ConstantsAndUniformNormal) {
  Tensor t = empty({10, 10});
  init::constant_(t, 2.5);
  for (double v : t.to_double_vector()) EXPECT_EQ(v, 2.5);
  init::zeros_(t);
  EXPECT_EQ(stats(t).maxabs, 0.0);
  init::ones_(t);
  EXPECT_EQ(stats(t).mean, 1.0);
  Generator g(1);
  Tensor u = empty({100000}, DType::Float64);
  init::uniform_(u, -2.0, 4.0, &g);
  Stats s = stats(u);
  for (double v : u.to_double_vector()) ASSERT_TRUE(v >= -2.0 && v < 4.0);
  EXPECT_NEAR(s.mean, 1.0, 0.03);
  EXPECT_NEAR(s.sd, 6.0 / std::sqrt(12.0), 0.02);
  init::normal_(u, 3.0, 0.5, &g);
  s = stats(u);
  EXPECT_NEAR(s.mean, 3.0, 0.01);
  EXPECT_NEAR(s.sd, 0.5, 0.01);
  EXPECT_THROW(init::uniform_(zeros({2}, DType::Int64)), DTypeError);
}

TEST(Init, XavierAndKaimingStatistics) {
  Generator g(2);
  Tensor w = empty({400, 300});
  const double n = 120000;
  init::xavier_uniform_(w, 2.0, &g);
  double a = 2.0 * std::sqrt(6.0 / 700.0);
  Stats s = stats(w);
  EXPECT_LE(s.maxabs, a);
  EXPECT_NEAR(s.sd, a / std::sqrt(3.0), 0.02 * a);
  init::xavier_normal_(w, 1.0, &g);
  EXPECT_NEAR(stats(w).sd, std::sqrt(2.0 / 700.0), 0.02 * std::sqrt(2.0 / 700.0));
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, "relu", &g);
  double b = std::sqrt(2.0) * std::sqrt(3.0 / 300.0);
  s = stats(w);
  EXPECT_LE(s.maxabs, b);
  EXPECT_NEAR(s.sd, b / std::sqrt(3.0), 0.02 * b);
  EXPECT_NEAR(s.mean, 0.0, 5 * b / std::sqrt(3.0 * n));
  init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, "relu", &g);
  EXPECT_NEAR(stats(w).sd, std::sqrt(2.0 / 400.0), 0.02 * std::sqrt(2.0 / 400.0));
  Generator g1(9), g2(9);
  Tensor w1 = empty({3, 4}), w2 = empty({3, 4});
  init::kaiming_normal_(w1, 0.0, init::FanMode::FanIn, "leaky_relu", &g1);
  init::kaiming_normal_(w2, 0.0, init::FanMode::FanIn, "leaky_relu", &g2);
  EXPECT_EQ(w1.to_vector<float>(), w2.to_vector<float>());
}

TEST(Init, OrthogonalRowsOrColumnsAreOrthonormal) {
  Generator g(4);
  for (auto shape : {Shape{6, 6}, Shape{4, 9}, Shape{9, 4}, Shape{5, 2, 3}}) {
    Tensor w = empty(shape, DType::Float64);
    const double gain = 1.5;
    init::orthogonal_(w, gain, &g);
    const int64_t rows = shape[0], cols = w.numel() / rows;
    auto v = w.to_double_vector();
    // rows <= cols: W W^T = gain^2 I; otherwise W^T W = gain^2 I.
    const bool by_rows = rows <= cols;
    const int64_t k = by_rows ? rows : cols, len = by_rows ? cols : rows;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double dot = 0;
        for (int64_t t = 0; t < len; ++t) {
          double a = by_rows ? v[i * cols + t] : v[t * cols + i];
          double b = by_rows ? v[j * cols + t] : v[t * cols + j];
          dot += a * b;
        }
        EXPECT_NEAR(dot, i == j ? gain * gain : 0.0, 1e-12) << shape << " (" << i << ", " << j << ")";
      }
  }
  Tensor f = empty({8, 8});
  init::orthogonal_(f, 1.0, &g);
  EXPECT_NEAR(stats(f).sd, 1.0 / std::sqrt(8.0), 0.1);
  EXPECT_THROW(init::orthogonal_(empty({4})), ShapeError);
}
