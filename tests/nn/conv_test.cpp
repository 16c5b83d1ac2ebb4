// nn::Conv2d against PyTorch fixtures, float64 gradcheck, default initialisation, shape errors.
#include <gtest/gtest.h>

#include "nn/image_fixture_util.h"

using namespace ember;
using namespace image_fixture;

TEST(Conv2dModule, MatchesPyTorch) {
  nn::Conv2d a(nn::Conv2dOptions(3, 4, 3));
  check_module(a, "conv_basic");
  nn::Conv2d b(nn::Conv2dOptions(2, 4, {3, 2}).stride(2).padding({1, 0}));
  check_module(b, "conv_stride_pad");
  nn::Conv2d c(nn::Conv2dOptions(4, 6, 3).dilation(2).groups(2).bias(false));
  EXPECT_FALSE(c.bias.defined());
  EXPECT_EQ(c.weight.shape(), Shape({6, 2, 3, 3}));
  check_module(c, "conv_dilation_groups_nobias");
  nn::Conv2d d(nn::Conv2dOptions(2, 3, 4).padding(Padding::Same));
  check_module(d, "conv_same");
}

TEST(Conv2dModule, MatchesPyTorchInFloat64) {
  nn::Conv2d a(nn::Conv2dOptions(3, 4, 3).dtype(DType::Float64));
  check_module(a, "conv_basic", DType::Float64, 1e-10);
}

TEST(Conv2dModule, Gradcheck) {
  manual_seed(1);
  nn::Conv2d m(nn::Conv2dOptions(2, 3, {3, 2}).stride({2, 1}).padding(1).dtype(DType::Float64));
  gradcheck_module(m, randn({2, 2, 5, 4}, nullptr, DType::Float64));
}

TEST(Conv2dModule, DefaultInitLikePyTorch) {
  // kaiming_uniform_(a = sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = I/g * kh * kw; bias same.
  manual_seed(7);
  nn::Conv2d m(nn::Conv2dOptions(16, 64, 5).groups(2));
  const double fan_in = 8 * 25;
  const double bound = 1.0 / std::sqrt(fan_in);
  auto check = [&](const Tensor& t, const char* what) {
    auto v = t.to_double_vector();
    double mean = 0, sq = 0, mx = 0;
    for (double e : v) {
      mean += e;
      sq += e * e;
      mx = std::max(mx, std::abs(e));
    }
    const double n = static_cast<double>(v.size());
    mean /= n;
    const double sd = std::sqrt(sq / n - mean * mean), expected_sd = bound / std::sqrt(3.0);
    EXPECT_LE(mx, bound) << what;
    EXPECT_GT(mx, bound * (1 - 20.0 / n)) << what;
    EXPECT_NEAR(mean, 0.0, 5 * expected_sd / std::sqrt(n)) << what;
    EXPECT_NEAR(sd, expected_sd, 0.1 * expected_sd + 5 * expected_sd / std::sqrt(n)) << what;
  };
  check(m.weight, "weight");
  check(m.bias, "bias");
  EXPECT_TRUE(m.weight.requires_grad());
}

TEST(Conv2dModule, ShapeErrorNamesTheLayerPath) {
  nn::Sequential model(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 8, 3)),
                       std::make_shared<nn::ReLU>());
  try {
    model.forward(randn({2, 1, 8, 8}));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("Conv2d"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'0'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(N, 3, H, W)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 1, 8, 8)"), std::string::npos) << msg;
  }
  nn::Conv2d c(nn::Conv2dOptions(3, 8, 3));
  EXPECT_THROW(c.forward(randn({3, 8, 8})), ShapeError);
  EXPECT_THROW(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).groups(2)), ValueError);
}

TEST(Conv2dModule, ReprAndNames) {
  nn::Conv2d c(nn::Conv2dOptions(3, 8, 3).stride(2).padding(1).bias(false));
  EXPECT_EQ(c.to_string(), "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=false)");
  auto names = c.named_parameters();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].first, "weight");
}
