// Pooling modules against PyTorch fixtures (float32 and float64), shape errors.
#include <gtest/gtest.h>

#include "nn/image_fixture_util.h"

using namespace ember;
using namespace image_fixture;

TEST(PoolingModules, MaxPoolMatchesPyTorch) {
  nn::MaxPool2d a(nn::MaxPool2dOptions(2));
  EXPECT_EQ(a.options().stride(), (Pair{2, 2}));
  check_module(a, "maxpool_2");
  check_module(a, "maxpool_2", DType::Float64, 1e-10);
  nn::MaxPool2d b(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
  check_module(b, "maxpool_3s2p1_ceil");
}

TEST(PoolingModules, AvgPoolMatchesPyTorch) {
  nn::AvgPool2d a(nn::AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false));
  check_module(a, "avgpool_3s2p1_nopad");
  check_module(a, "avgpool_3s2p1_nopad", DType::Float64, 1e-10);
  nn::AvgPool2d b(nn::AvgPool2dOptions(2).ceil_mode(true));
  check_module(b, "avgpool_2_ceil");
}

TEST(PoolingModules, AdaptiveAndGlobalMatchPyTorch) {
  nn::AdaptiveAvgPool2d a({2, 3});
  check_module(a, "adaptive_2x3");
  nn::GlobalAvgPool2d g2;
  check_module(g2, "global2d");
  check_module(g2, "global2d", DType::Float64, 1e-10);
  nn::GlobalAvgPool1d g1;
  check_module(g1, "global1d");
}

TEST(PoolingModules, ShapeErrors) {
  nn::Sequential model(std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)));
  try {
    model.forward(randn({2, 8, 8}));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("MaxPool2d '1'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(N, C, H, W)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 8, 8)"), std::string::npos) << msg;
  }
  EXPECT_THROW(nn::GlobalAvgPool1d().forward(randn({2, 3, 4, 5})), ShapeError);
  EXPECT_THROW(nn::GlobalAvgPool2d().forward(randn({2, 3})), ShapeError);
  EXPECT_THROW(nn::AdaptiveAvgPool2d(2).forward(randn({2, 3, 4})), ShapeError);
  EXPECT_THROW(nn::AvgPool2d(nn::AvgPool2dOptions(2).padding(2)), ValueError);
}
