#include <gtest/gtest.h>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"reshape_infer", "reshape", [](const Inputs& x) { return reshape(x[0], {3, -1}); }},
    {"reshape_of_transpose", "reshape", [](const Inputs& x) { return reshape(transpose(x[0], 0, 1), {-1}); }},
    {"flatten_middle", "flatten", [](const Inputs& x) { return flatten(x[0], 1, 2); }},
    {"transpose_01", "transpose", [](const Inputs& x) { return transpose(x[0], 0, 1); }},
    {"transpose_then_mul", "transpose", [](const Inputs& x) { return transpose(x[0], -1, -2) * x[1]; }},
    {"permute_3d", "permute", [](const Inputs& x) { return permute(x[0], {2, 0, 1}); }},
    {"slice_step", "slice", [](const Inputs& x) { return slice(x[0], 1, 1, 5, 2); }},
    {"slice_negative", "slice", [](const Inputs& x) { return slice(x[0], 0, -2, 4); }},
    {"select_axis1", "select", [](const Inputs& x) { return select(x[0], 1, 2); }},
    {"expand_rows", "expand", [](const Inputs& x) { return expand(x[0], {4, 3}); }},
    {"expand_new_lead", "expand", [](const Inputs& x) { return expand(x[0], {2, 3, 2}); }},
    {"squeeze_all", "squeeze", [](const Inputs& x) { return squeeze(x[0]); }},
    {"squeeze_axis", "squeeze", [](const Inputs& x) { return squeeze(x[0], 2); }},
    {"unsqueeze_mid", "unsqueeze", [](const Inputs& x) { return unsqueeze(x[0], 1); }},
    {"contiguous_of_transpose", "contiguous", [](const Inputs& x) { return contiguous(transpose(x[0], 0, 1)); }},
    {"clone", "clone", [](const Inputs& x) { return clone(x[0]); }},
    {"to_float32", "to", [](const Inputs& x) { return to(to(x[0], DType::Float32), DType::Float64); }},
});

TEST(Shape, ViewsShareStorage) {
  Tensor a = randn({4, 6});
  EXPECT_EQ(reshape(a, {6, 4}).storage(), a.storage());
  EXPECT_EQ(transpose(a, 0, 1).storage(), a.storage());
  EXPECT_EQ(slice(a, 1, 2, 4).storage(), a.storage());
  EXPECT_EQ(expand(reshape(a, {1, 24}), {3, 24}).storage(), a.storage());
  // A transposed tensor cannot be flattened without a copy.
  Tensor t = transpose(a, 0, 1);
  EXPECT_THROW(view(t, {24}), ShapeError);
  EXPECT_NE(reshape(t, {24}).storage(), a.storage());
  EXPECT_EQ(contiguous(a).storage(), a.storage());
}

TEST(Shape, Errors) {
  EXPECT_THROW(reshape(zeros({2, 3}), {4, -1}), ShapeError);
  EXPECT_THROW(reshape(zeros({2, 3}), {-1, -1}), ShapeError);
  EXPECT_THROW(transpose(zeros({2, 3}), 0, 2), IndexError);
  EXPECT_THROW(permute(zeros({2, 3}), {0, 0}), ValueError);
  EXPECT_THROW(expand(zeros({2, 3}), {4, 3}), ShapeError);
  EXPECT_THROW(select(zeros({2, 3}), 0, 2), IndexError);
  EXPECT_THROW(slice(zeros({2, 3}), 0, 0, 1, 0), ValueError);
}
