#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"relu", "relu", [](const Inputs& x) { return relu(x[0]); }},
    {"leaky_relu", "leaky_relu", [](const Inputs& x) { return leaky_relu(x[0]); }},
    {"leaky_relu_slope", "leaky_relu", [](const Inputs& x) { return leaky_relu(x[0], 0.2); }},
    {"sigmoid", "sigmoid", [](const Inputs& x) { return sigmoid(x[0]); }},
    {"tanh", "tanh", [](const Inputs& x) { return tanh(x[0]); }},
    {"softmax_last", "softmax", [](const Inputs& x) { return softmax(x[0], -1); }},
    {"softmax_axis0", "softmax", [](const Inputs& x) { return softmax(x[0], 0); }},
    {"softmax_axis1_3d", "softmax", [](const Inputs& x) { return softmax(x[0], 1); }},
    {"softmax_large", "softmax", [](const Inputs& x) { return softmax(x[0]); }},
    {"log_softmax_last", "log_softmax", [](const Inputs& x) { return log_softmax(x[0], -1); }},
    {"log_softmax_axis0", "log_softmax", [](const Inputs& x) { return log_softmax(x[0], 0); }},
    {"log_softmax_axis1_3d", "log_softmax", [](const Inputs& x) { return log_softmax(x[0], 1); }},
    {"gelu", "gelu", [](const Inputs& x) { return gelu(x[0]); }},
    {"gelu_tanh", "gelu", [](const Inputs& x) { return gelu(x[0], "tanh"); }},
});

TEST(Activation, SoftmaxAxisOutOfRangeIsAnIndexErrorWithShape) {
  for (int64_t axis : {2, -3}) {
    try {
      log_softmax(zeros({2, 3}), axis);
      FAIL() << axis;
    } catch (const IndexError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("log_softmax"), std::string::npos) << m;
      EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
    }
  }
  EXPECT_THROW(softmax(zeros({4}), 1), IndexError);
}

TEST(Activation, BadDTypeAndOptions) {
  EXPECT_THROW(softmax(arange(4), 0), DTypeError);
  EXPECT_THROW(tanh(arange(4)), DTypeError);
  EXPECT_THROW(relu(arange(4)), DTypeError);
  EXPECT_THROW(gelu(zeros({2}), "erf"), ValueError);
}

TEST(Activation, SoftmaxIsStableAndSumsToOne) {
  Tensor x = from_vector(std::vector<float>{1000.0f, 1001.0f, 1002.0f, -1000.0f, 0.0f, 1000.0f}, {2, 3});
  Tensor y = softmax(x, 1);
  auto v = y.to_vector<float>();
  for (float f : v) EXPECT_TRUE(std::isfinite(f));
  EXPECT_NEAR(v[0] + v[1] + v[2], 1.0f, 1e-6f);
  EXPECT_NEAR(v[5], 1.0f, 1e-6f);
  auto l = log_softmax(x, 1).to_vector<float>();
  EXPECT_NEAR(l[3], -2000.0f, 1e-3f);  // no -inf: computed as x - max - log(sum)
  // Non-contiguous input along a non-last axis.
  Tensor t = transpose(randn({5, 7}), 0, 1);  // (7, 5)
  Tensor s = sum(softmax(t, 0), {0});
  for (float f : s.to_vector<float>()) EXPECT_NEAR(f, 1.0f, 1e-5f);
}

TEST(Activation, SpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor x = from_vector(std::vector<float>{nan, -inf, inf, -100.0f, 100.0f});
  auto r = relu(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(r[0]));
  EXPECT_EQ(r[1], 0.0f);
  auto s = sigmoid(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(s[0]));
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_EQ(s[2], 1.0f);
  EXPECT_GT(s[3], 0.0f);  // 3.7e-44, a subnormal, not flushed to 0
  auto t = tanh(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(t[0]));
  EXPECT_EQ(t[1], -1.0f);
  EXPECT_EQ(t[4], 1.0f);
}

TEST(Activation, ReluGradientIsZeroAtZero) {
  Tensor x = from_vector(std::vector<float>{-1.0f, 0.0f, 2.0f}).requires_grad_();
  sum(relu(x)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 1}));
}

TEST(Activation, LargeInputsMatchStd) {
  Tensor x = randn({512, 1024}) * 3.0;
  auto xv = x.to_vector<float>();
  auto t = tanh(x).to_vector<float>();
  auto s = sigmoid(x).to_vector<float>();
  for (size_t i = 0; i < xv.size(); i += 613) {
    EXPECT_NEAR(t[i], std::tanh(double(xv[i])), 3e-7);
    EXPECT_NEAR(s[i], 1.0 / (1.0 + std::exp(-double(xv[i]))), 3e-7);
  }
}
