#include <gtest/gtest.h>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"sum_all", "sum", [](const Inputs& x) { return sum(x[0]); }},
    {"sum_axis1", "sum", [](const Inputs& x) { return sum(x[0], {1}); }},
    {"sum_axes_keepdim", "sum", [](const Inputs& x) { return sum(x[0], {0, 2}, true); }},
    {"sum_last_neg", "sum", [](const Inputs& x) { return sum(x[0], {-1}); }},
    {"mean_all", "mean", [](const Inputs& x) { return mean(x[0]); }},
    {"mean_axis0_keepdim", "mean", [](const Inputs& x) { return mean(x[0], {0}, true); }},
});

TEST(Reduce, BadAxes) {
  EXPECT_THROW(sum(zeros({2, 3}), {2}), IndexError);
  EXPECT_THROW(sum(zeros({2, 3}), {1, -1}), ValueError);
  EXPECT_THROW(mean(zeros({0, 3}), {0}), ValueError);
}

TEST(Reduce, LargeSumIsAccurate) {
  Tensor x = ones({1000, 1000});
  EXPECT_EQ(sum(x).item(), 1e6);
  Tensor c = sum(x, {0});
  EXPECT_EQ(c.at({999}), 1000.0);
}
