// Sequential's ReLU + MaxPool2d reordering (src/nn/container.cpp) against the written order.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/autograd/node.h"
#include "ember/nn/nn.h"
#include "ember/ops/conv.h"

using namespace ember;
namespace nn = ember::nn;

// Sequential runs ReLU, MaxPool2d as MaxPool2d, ReLU (fewer elements through the ReLU); values and gradients
// must be exactly those of the written order, including all-negative windows, zeros, ties and padding.
TEST(Sequential, ReluBeforeMaxPoolMatchesWrittenOrder) {
  auto pool_fn = [](const Tensor& x) { return max_pool2d(x, {3, 3}, Pair{2, 2}, {1, 1}, true); };
  nn::Sequential seq(std::make_shared<nn::ReLU>(), std::make_shared<nn::Functional>(pool_fn, "MaxPool2d"));
  manual_seed(3);
  Tensor base = randn({2, 3, 7, 6});
  for (int64_t c = 0; c < 3; ++c) {
    base.set({0, c, 0, 0}, 0.0);
    base.set({0, c, 0, 1}, 0.0);
    base.set({1, c, 2, 2}, 0.5);
    base.set({1, c, 2, 3}, 0.5);
    for (int64_t h = 4; h < 7; ++h)
      for (int64_t w = 0; w < 6; ++w) base.set({1, c, h, w}, -1.0 - 0.1 * double(h * 6 + w));
  }
  Tensor x1 = copy_as(base, DType::Float32).requires_grad_();
  Tensor x2 = copy_as(base, DType::Float32).requires_grad_();
  Tensor y1 = seq.forward(x1);
  Tensor y2 = pool_fn(relu(x2));
  ASSERT_EQ(y1.shape(), y2.shape());
  EXPECT_EQ(y1.to_vector<float>(), y2.to_vector<float>());
  Tensor g = randn(y1.shape());
  y1.backward(g);
  y2.backward(g);
  EXPECT_EQ(x1.grad().to_vector<float>(), x2.grad().to_vector<float>());
}

// Anything else between them, or a ReLU subclass, keeps the written order (still the same values).
TEST(Sequential, OtherLayersKeepOrder) {
  auto pool_fn = [](const Tensor& x) { return max_pool2d(x, {2, 2}); };
  nn::Sequential seq(std::make_shared<nn::ReLU>(), std::make_shared<nn::Identity>(),
                     std::make_shared<nn::Functional>(pool_fn, "MaxPool2d"));
  Tensor x = randn({1, 2, 4, 4});
  EXPECT_EQ(seq.forward(x).to_vector<float>(), pool_fn(relu(x)).to_vector<float>());
}

// Conv2d, ReLU, MaxPool2d(2) (and Conv2d, MaxPool2d(2)) on an input without gradient run as the fused
// conv2d_maxpool2 op; values and parameter gradients equal the module-by-module run.
TEST(Sequential, ConvReluPoolRunsFusedWithTheSameResults) {
  for (bool relu : {true, false}) {
    manual_seed(5);
    auto conv = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3));
    auto pool = std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2));
    nn::Sequential seq =
        relu ? nn::Sequential(conv, std::make_shared<nn::ReLU>(), pool) : nn::Sequential(conv, pool);
    Tensor x = randn({3, 1, 13, 12});
    Tensor y = seq.forward(x);
    ASSERT_TRUE(y.grad_fn() != nullptr);
    EXPECT_STREQ(y.grad_fn()->name(), "conv2d_maxpool2");
    Tensor w2 = clone(conv->weight.detach()).requires_grad_(),
           b2 = clone(conv->bias.detach()).requires_grad_();
    Tensor y2 = max_pool2d(conv2d(x, w2, b2), {2, 2});
    if (relu) y2 = ember::relu(y2);
    ASSERT_EQ(y.shape(), y2.shape());
    auto a = y.to_vector<float>(), r = y2.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], r[i], 1e-5f * (1 + std::abs(r[i]))) << i;
    Tensor g = randn(y.shape());
    y.backward(g);
    y2.backward(g);
    auto gw = conv->weight.grad().to_vector<float>(), gw2 = w2.grad().to_vector<float>();
    for (size_t i = 0; i < gw.size(); ++i) EXPECT_NEAR(gw[i], gw2[i], 1e-4f * (1 + std::abs(gw2[i]))) << i;
    auto gb = conv->bias.grad().to_vector<float>(), gb2 = b2.grad().to_vector<float>();
    for (size_t i = 0; i < gb.size(); ++i) EXPECT_NEAR(gb[i], gb2[i], 1e-4f * (1 + std::abs(gb2[i]))) << i;
  }
  // A wrong channel count still gets Conv2d's own error naming the layer.
  nn::Sequential bad(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 4, 3)), std::make_shared<nn::ReLU>(),
                     std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)));
  try {
    bad.forward(randn({1, 3, 8, 8}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("Conv2d"), std::string::npos) << e.what();
  }
}
