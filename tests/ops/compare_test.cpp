#include <gtest/gtest.h>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"eq_tensor", "eq", [](const Inputs& x) { return eq(x[0], x[1]); }},
    {"eq_scalar", "eq", [](const Inputs& x) { return eq(x[0], 2.0); }},
    {"ne_broadcast", "ne", [](const Inputs& x) { return ne(x[0], x[1]); }},
    {"ne_scalar", "ne", [](const Inputs& x) { return ne(x[0], 0.5); }},
    {"lt_broadcast", "lt", [](const Inputs& x) { return lt(x[0], x[1]); }},
    {"lt_scalar", "lt", [](const Inputs& x) { return lt(x[0], 0.25); }},
    {"le_tensor", "le", [](const Inputs& x) { return le(x[0], x[1]); }},
    {"le_scalar", "le", [](const Inputs& x) { return le(x[0], 1.0); }},
    {"gt_tensor", "gt", [](const Inputs& x) { return gt(x[0], x[1]); }},
    {"gt_scalar", "gt", [](const Inputs& x) { return gt(x[0], 0.0); }},
    {"gt_int64", "gt", [](const Inputs& x) { return gt(x[0], x[1]); }},
    {"ge_tensor", "ge", [](const Inputs& x) { return ge(x[0], x[1]); }},
    {"ge_scalar", "ge", [](const Inputs& x) { return ge(x[0], -0.5); }},
    {"logical_not_mask", "logical_not", [](const Inputs& x) { return logical_not(x[0]); }},
    {"logical_not_of_compare", "logical_not", [](const Inputs& x) { return logical_not(gt(x[0], 0.0)); }},
});

TEST(Compare, ResultsAreBoolAndNeverRequireGrad) {
  Tensor a = randn({3, 4}).requires_grad_();
  Tensor m = gt(a, 0.0);
  EXPECT_EQ(m.dtype(), DType::Bool);
  EXPECT_FALSE(m.requires_grad());
  EXPECT_FALSE(lt(a, a).requires_grad());
}

TEST(Compare, MixedDTypesPromote) {
  Tensor i = from_vector(std::vector<int64_t>{1, 2, 3});
  Tensor f = tensor({1.5f, 2.0f, 2.5f});
  EXPECT_EQ(lt(i, f).to_vector<int>(), (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(eq(i, f).to_vector<int>(), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(gt(i, 1.5).to_vector<int>(), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(logical_not(i).to_vector<int>(), (std::vector<int>{0, 0, 0}));
}

TEST(Compare, StridedAndLargeInputs) {
  Tensor a = randn({300, 200});
  Tensor t = transpose(a, 0, 1);
  Tensor m = gt(t, 0.0);
  EXPECT_EQ(m.shape(), (Shape{200, 300}));
  for (int64_t i : {0, 17, 199})
    for (int64_t j : {0, 123, 299}) EXPECT_EQ(m.at({i, j}) != 0, a.at({j, i}) > 0);
  Tensor n = logical_not(m);
  EXPECT_EQ(sum(to(m, DType::Float32)).item() + sum(to(n, DType::Float32)).item(), 60000.0);
}

TEST(Compare, Errors) {
  EXPECT_THROW(eq(zeros({2, 3}), zeros({4})), ShapeError);
  EXPECT_THROW(lt(Tensor(), 1.0), ValueError);
}
