// Sequential's Linear + ReLU fusion (src/nn/container.cpp) against the written order: same values in eval
// mode without gradients (the fused path, batch 1 and batched), same values and gradients when recording.
#include <gtest/gtest.h>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;

namespace {
std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(49, 13), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(13, 7), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(7, 3));
}
Tensor written_order(nn::Sequential& s, const Tensor& x) {
  Tensor h = x;
  for (int64_t i = 0; i < 6; ++i) h = s[i]->forward(h);
  return h;
}
}  // namespace

TEST(Sequential, LinearReluFusedMatchesWrittenOrder) {
  manual_seed(4);
  auto s = mlp();
  s->eval();
  for (int64_t batch : {1, 5}) {
    Tensor x = randn({batch, 1, 7, 7});
    NoGradGuard ng;
    Tensor y = s->forward(x);
    Tensor ref = written_order(*s, x);
    EXPECT_EQ(y.shape(), ref.shape());
    EXPECT_EQ(y.to_vector<float>(), ref.to_vector<float>()) << "batch " << batch;
  }
}

TEST(Sequential, LinearReluWithGradMatchesWrittenOrder) {
  manual_seed(5);
  auto s = mlp();
  for (int64_t batch : {1, 4}) {
    Tensor x = randn({batch, 1, 7, 7});
    Tensor y = s->forward(x);
    Tensor g = randn(y.shape());
    s->zero_grad();
    y.backward(g);
    std::vector<std::vector<float>> grads;
    for (auto& p : s->parameters()) grads.push_back(p.grad().to_vector<float>());
    s->zero_grad();
    Tensor ref = written_order(*s, x);
    ref.backward(g);
    EXPECT_EQ(y.to_vector<float>(), ref.to_vector<float>());
    auto params = s->parameters();
    for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(grads[i], params[i].grad().to_vector<float>());
  }
}

// A Linear followed by something other than a plain ReLU keeps the unfused order.
TEST(Sequential, LinearNotFollowedByReluUnchanged) {
  manual_seed(6);
  auto fc = std::make_shared<nn::Linear>(4, 3);
  nn::Sequential s(fc, std::make_shared<nn::Sigmoid>());
  Tensor x = randn({1, 4});
  NoGradGuard ng;
  EXPECT_EQ(s.forward(x).to_vector<float>(), sigmoid(fc->forward(x)).to_vector<float>());
}
