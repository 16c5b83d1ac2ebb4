// Sequential's ReLU + MaxPool2d reordering (src/nn/container.cpp) against the written order.
#include <gtest/gtest.h>

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
