// Activation modules (moved into tests/nn/ once the elementwise ops are merged).
#include <gtest/gtest.h>

#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;

TEST(Activation, ModulesCallTheirOps) {
  Tensor x = randn({3, 5});
  EXPECT_EQ(nn::ReLU().forward(x).to_vector<float>(), relu(x).to_vector<float>());
  EXPECT_EQ(nn::LeakyReLU(0.2).forward(x).to_vector<float>(), leaky_relu(x, 0.2).to_vector<float>());
  EXPECT_EQ(nn::Sigmoid().forward(x).to_vector<float>(), sigmoid(x).to_vector<float>());
  EXPECT_EQ(nn::Tanh().forward(x).to_vector<float>(), tanh(x).to_vector<float>());
  EXPECT_EQ(nn::Softmax(1).forward(x).to_vector<float>(), softmax(x, 1).to_vector<float>());
  EXPECT_EQ(nn::LogSoftmax(0).forward(x).to_vector<float>(), log_softmax(x, 0).to_vector<float>());
  EXPECT_EQ(nn::GELU().forward(x).to_vector<float>(), gelu(x).to_vector<float>());
  EXPECT_EQ(nn::GELU("tanh").forward(x).to_vector<float>(), gelu(x, "tanh").to_vector<float>());
}

TEST(Activation, PrintingAndErrors) {
  EXPECT_EQ(nn::ReLU().to_string(), "ReLU()");
  EXPECT_EQ(nn::LeakyReLU(0.2).to_string(), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(nn::Softmax(1).to_string(), "Softmax(dim=1)");
  EXPECT_EQ(nn::GELU("tanh").to_string(), "GELU(approximate='tanh')");
  EXPECT_THROW(nn::GELU("fast"), ValueError);
  EXPECT_THROW(nn::Softmax(2).forward(zeros({3, 4})), ShapeError);
}

TEST(Activation, MlpInSequentialTrains) {
  manual_seed(0);
  auto net =
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 8), std::make_shared<nn::Tanh>(),
                                       std::make_shared<nn::Linear>(8, 1), std::make_shared<nn::Sigmoid>());
  Tensor x = tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  Tensor y = tensor({0, 1, 1, 0}, {4, 1});
  double first = 0, last = 0;
  for (int step = 0; step < 500; ++step) {
    net->zero_grad();
    Tensor loss = mean(square(net->forward(x) - y));
    loss.backward();
    if (step == 0) first = loss.item();
    last = loss.item();
    NoGradGuard ng;
    for (auto& p : net->parameters()) copy_into(p, p - p.grad() * 1.0);
  }
  EXPECT_LT(last, first * 0.5);
}
