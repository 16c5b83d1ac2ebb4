#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"pow_scalar2", "pow", [](const Inputs& x) { return pow(x[0], 2.0); }},
    {"pow_scalar_frac", "pow", [](const Inputs& x) { return pow(x[0], 1.7); }},
    {"pow_scalar_neg", "pow", [](const Inputs& x) { return pow(x[0], -1.5); }},
    {"pow_scalar_zero", "pow", [](const Inputs& x) { return pow(x[0], 0.0); }},
    {"pow_tensor", "pow", [](const Inputs& x) { return pow(x[0], x[1]); }},
    {"pow_tensor_broadcast", "pow", [](const Inputs& x) { return pow(x[0], x[1]); }},
    {"exp", "exp", [](const Inputs& x) { return exp(x[0]); }},
    {"log", "log", [](const Inputs& x) { return log(x[0]); }},
    {"sqrt", "sqrt", [](const Inputs& x) { return sqrt(x[0]); }},
    {"abs", "abs", [](const Inputs& x) { return abs(x[0]); }},
    {"square", "square", [](const Inputs& x) { return square(x[0]); }},
    {"clamp_both", "clamp", [](const Inputs& x) { return clamp(x[0], -0.55, 0.45); }},
    {"clamp_min", "clamp", [](const Inputs& x) { return clamp(x[0], 0.25, std::nullopt); }},
    {"clamp_max", "clamp", [](const Inputs& x) { return clamp(x[0], std::nullopt, -0.15); }},
    {"maximum_same", "maximum", [](const Inputs& x) { return maximum(x[0], x[1]); }},
    {"maximum_broadcast", "maximum", [](const Inputs& x) { return maximum(x[0], x[1]); }},
    {"maximum_ties", "maximum", [](const Inputs& x) { return maximum(x[0], x[1]); }},
    {"minimum_same", "minimum", [](const Inputs& x) { return minimum(x[0], x[1]); }},
    {"minimum_broadcast", "minimum", [](const Inputs& x) { return minimum(x[0], x[1]); }},
    {"minimum_ties", "minimum", [](const Inputs& x) { return minimum(x[0], x[1]); }},
});

TEST(Unary, IntegerInputIsADTypeErrorNamingTheOp) {
  Tensor i = arange(4);  // int64
  for (auto f : {+[](const Tensor& t) { return exp(t); }, +[](const Tensor& t) { return log(t); },
                 +[](const Tensor& t) { return sqrt(t); }, +[](const Tensor& t) { return pow(t, 2.0); }}) {
    EXPECT_THROW(f(i), DTypeError);
  }
  try {
    exp(i);
    FAIL();
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("exp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos) << e.what();
  }
  EXPECT_THROW(maximum(zeros({2}), zeros({2}, DType::Float64)), DTypeError);
}

TEST(Unary, BadArguments) {
  EXPECT_THROW(clamp(zeros({2}), std::nullopt, std::nullopt), ValueError);
  try {
    maximum(zeros({2, 3}), zeros({4}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("maximum"), std::string::npos) << e.what();
  }
}

TEST(Unary, SpecialValuesFollowPyTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor x = from_vector(std::vector<float>{nan, -inf, inf, 0.0f, -1.0f});
  auto e = exp(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(e[0]));
  EXPECT_EQ(e[1], 0.0f);
  EXPECT_EQ(e[2], inf);
  EXPECT_EQ(e[3], 1.0f);
  auto l = log(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(l[0]) && std::isnan(l[1]) && std::isnan(l[4]));
  EXPECT_EQ(l[2], inf);
  EXPECT_EQ(l[3], -inf);
  auto c = clamp(x, 0.0, 1.0).to_vector<float>();
  EXPECT_TRUE(std::isnan(c[0]));
  EXPECT_EQ(c[1], 0.0f);
  EXPECT_EQ(c[2], 1.0f);
  auto m = maximum(x, zeros({5})).to_vector<float>();
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_TRUE(std::isnan(maximum(zeros({1}), from_vector(std::vector<float>{nan})).item()));
  EXPECT_TRUE(std::isnan(minimum(zeros({1}), from_vector(std::vector<float>{nan})).item()));
}

TEST(Unary, GradientsAtKinksMatchPyTorch) {
  // clamp passes the gradient at its bounds; abs has gradient 0 at 0; pow(x, 0) has gradient 0 even at x = 0.
  Tensor x = from_vector(std::vector<float>{-1.0f, 0.0f, 0.5f, 1.0f, 2.0f}).requires_grad_();
  sum(clamp(x, 0.0, 1.0)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 1, 1, 1, 0}));
  x.zero_grad();
  sum(abs(x)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{-1, 0, 1, 1, 1}));
  x.zero_grad();
  sum(pow(x, 0.0)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 0}));
}

TEST(Unary, StridedAndLargeInputsMatchElementwise) {
  Tensor a = transpose(reshape(arange(-3, 3, 0.5), {3, 4}), 0, 1);  // not contiguous
  auto got = exp(a).to_vector<float>();
  auto in = a.to_vector<float>();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(got[i], std::exp(in[i]), 1e-6f * std::exp(in[i]));
  Tensor big = randn({300, 1000});
  auto l = log(abs(big) + 1e-3).to_vector<float>();
  auto b = big.to_vector<float>();
  for (size_t i = 0; i < b.size(); i += 991)
    EXPECT_NEAR(l[i], std::log(std::abs(b[i]) + 1e-3f), 1e-6f * (1 + std::abs(l[i])));
}
