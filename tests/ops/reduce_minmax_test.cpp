#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ember/kernels/index.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"max_axis1", "max", [](const Inputs& x) { return max(x[0], 1); }},
    {"max_axis0_keepdim", "max", [](const Inputs& x) { return max(x[0], 0, true); }},
    {"max_neg_axis_middle", "max", [](const Inputs& x) { return max(x[0], -2); }},
    {"max_all", "max", [](const Inputs& x) { return max(x[0]); }},
    {"max_ties_first", "max", [](const Inputs& x) { return max(x[0], 1); }},
    {"min_axis1", "min", [](const Inputs& x) { return min(x[0], 1); }},
    {"min_axis0_keepdim", "min", [](const Inputs& x) { return min(x[0], 0, true); }},
    {"min_all", "min", [](const Inputs& x) { return min(x[0]); }},
    {"var_all", "var", [](const Inputs& x) { return var(x[0]); }},
    {"var_axis1_biased", "var", [](const Inputs& x) { return var(x[0], {1}, false); }},
    {"var_axes_keepdim", "var",
     [](const Inputs& x) {
       return var(x[0], {0, 2}, true, true);
     }},
    {"var_axis0", "var", [](const Inputs& x) { return var(x[0], {0}); }},
    {"var_last_two", "var",
     [](const Inputs& x) {
       return var(x[0], {-2, -1});
     }},
    {"argmax_axis1", "argmax", [](const Inputs& x) { return argmax(x[0], 1); }},
    {"argmax_axis0_keepdim", "argmax", [](const Inputs& x) { return argmax(x[0], 0, true); }},
    {"argmin_axis_last", "argmin", [](const Inputs& x) { return argmin(x[0], -1); }},
    {"argmin_ties_first", "argmin", [](const Inputs& x) { return argmin(x[0], 0); }},
});

TEST(ReduceMinMax, GradientGoesToFirstTie) {
  Tensor x = tensor({{1, 3, 3}, {2, 2, 0.5f}}).requires_grad_();
  sum(max(x, 1)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 1, 0, 1, 0, 0}));
  Tensor y = tensor({{1, 3, 3}, {2, 2, 0.5f}}).requires_grad_();
  sum(min(y, 0)).backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 1}));
}

TEST(ReduceMinMax, GlobalMaxSharesGradientAmongTies) {
  Tensor x = tensor({1, 4, 4, 2}).requires_grad_();
  Tensor m = max(x);
  EXPECT_EQ(m.item(), 4.0);
  EXPECT_EQ(m.dim(), 0);
  m.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0.5f, 0.5f, 0}));
}

TEST(ReduceMinMax, NaNWins) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = tensor({{1, nan, 5, nan}, {3, 2, 1, 0}});
  Tensor v = max(x, 1);
  EXPECT_TRUE(std::isnan(v.at({0})));
  EXPECT_EQ(v.at({1}), 3.0);
  EXPECT_EQ(argmax(x, 1).at({0}), 1.0);
  EXPECT_EQ(argmin(x, 1).at({0}), 1.0);
  EXPECT_TRUE(std::isnan(max(x).item()));
}

TEST(ReduceMinMax, Errors) {
  EXPECT_THROW(max(zeros({2, 3}), 2), IndexError);
  EXPECT_THROW(max(zeros({2, 0}), 1), ValueError);
  EXPECT_THROW(min(zeros({0})), ValueError);
  EXPECT_THROW(argmax(scalar_tensor(1.0), 0), IndexError);
  EXPECT_THROW(var(zeros({2, 3}, DType::Int64)), DTypeError);
  EXPECT_THROW(var(zeros({2, 0}), {1}), ValueError);
  EXPECT_THROW(var(zeros({2, 3}), {0, 0}), ValueError);
}

TEST(ReduceMinMax, IntTensorsAndShapes) {
  Tensor x = from_vector(std::vector<int64_t>{5, -2, 7, 7, 0, 1}, {2, 3});
  Tensor m = max(x, 1);
  EXPECT_EQ(m.dtype(), DType::Int64);
  EXPECT_EQ(m.to_vector<int64_t>(), (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(max(x).item(), 7.0);
  EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 3}));
  // The variance of a single element (unbiased) is NaN, like PyTorch; biased it is 0.
  EXPECT_TRUE(std::isnan(var(ones({1, 3}), {0}).at({0})));
  EXPECT_EQ(var(ones({1, 3}), {0}, false).at({0}), 0.0);
}

TEST(ReduceMinMax, VarOfLargeTensorMatchesTwoPassInDouble) {
  Tensor x = randn({64, 1000});
  Tensor v = var(x, {1});
  Tensor vt = var(transpose(x, 0, 1), {0});  // strided input, inner > 1 path after the copy
  std::vector<double> d = x.to_double_vector();
  for (int64_t r : {0, 31, 63}) {
    double s = 0, ss = 0;
    for (int k = 0; k < 1000; ++k) s += d[r * 1000 + k];
    double mu = s / 1000;
    for (int k = 0; k < 1000; ++k) ss += (d[r * 1000 + k] - mu) * (d[r * 1000 + k] - mu);
    EXPECT_NEAR(v.at({r}), ss / 999, 1e-4);
    EXPECT_NEAR(vt.at({r}), ss / 999, 1e-4);
  }
  // Non-adjacent axes go through the permuted path.
  Tensor y = randn({3, 4, 5});
  Tensor a = var(y, {0, 2}, true, true);
  Tensor b = var(reshape(permute(y, {1, 0, 2}), {4, 15}), {1});
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(a.at({0, i, 0}), b.at({i}), 1e-5);
}

// The fast min/max kernel against the reference, on shapes that take the parallel and column-wise paths.
TEST(ReduceMinMax, FastKernelMatchesReference) {
  for (Shape s : {Shape{300, 257}, Shape{7, 1000, 33}, Shape{2, 5, 3000}, Shape{40000}}) {
    Tensor x = randn(s);
    for (int64_t axis = 0; axis < static_cast<int64_t>(s.size()); ++axis)
      for (bool is_max : {true, false}) {
        Shape ks = s;
        ks[axis] = 1;
        Tensor v1 = empty(ks), v2 = empty(ks), i1 = empty(ks, DType::Int64), i2 = empty(ks, DType::Int64);
        kernels::minmax_axis(x, axis, is_max, v1, i1);
        kernels::minmax_axis_ref(x, axis, is_max, v2, i2);
        EXPECT_EQ(v1.to_vector<float>(), v2.to_vector<float>()) << s << " axis " << axis;
        EXPECT_EQ(i1.to_vector<int64_t>(), i2.to_vector<int64_t>()) << s << " axis " << axis;
      }
    std::vector<double> d = x.to_double_vector();
    int64_t at = kernels::minmax_all_index(x, true);
    EXPECT_EQ(d[at], *std::max_element(d.begin(), d.end()));
  }
}
