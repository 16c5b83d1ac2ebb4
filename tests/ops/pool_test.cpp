#include <gtest/gtest.h>

#include "ember/kernels/conv.h"
#include "ember/ops/conv.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"max_pool2d_2x2", "max_pool2d",
     [](const Inputs& x) {
       return max_pool2d(x[0], {2, 2});
     }},
    {"max_pool2d_odd_input", "max_pool2d",
     [](const Inputs& x) {
       return max_pool2d(x[0], {2, 2});
     }},
    {"max_pool2d_pad_ceil", "max_pool2d",
     [](const Inputs& x) {
       return max_pool2d(x[0], {3, 3}, Pair{2, 2}, {1, 1}, true);
     }},
    {"max_pool2d_overlap", "max_pool2d",
     [](const Inputs& x) {
       return max_pool2d(x[0], {2, 3}, Pair{1, 1});
     }},
    {"avg_pool2d_2x2", "avg_pool2d",
     [](const Inputs& x) {
       return avg_pool2d(x[0], {2, 2});
     }},
    {"avg_pool2d_pad_include", "avg_pool2d",
     [](const Inputs& x) {
       return avg_pool2d(x[0], {3, 3}, Pair{2, 2}, {1, 1}, true, true);
     }},
    {"avg_pool2d_pad_exclude", "avg_pool2d",
     [](const Inputs& x) {
       return avg_pool2d(x[0], {3, 3}, Pair{2, 2}, {1, 1}, true, false);
     }},
    {"adaptive_avg_pool2d_global", "adaptive_avg_pool2d",
     [](const Inputs& x) {
       return adaptive_avg_pool2d(x[0], {1, 1});
     }},
    {"adaptive_avg_pool2d_3x2", "adaptive_avg_pool2d",
     [](const Inputs& x) {
       return adaptive_avg_pool2d(x[0], {3, 2});
     }},
    {"global_avg_pool1d", "global_avg_pool1d", [](const Inputs& x) { return global_avg_pool1d(x[0]); }},
});

TEST(MaxPool2d, FastMatchesReference) {
  for (auto [k, s, p, h] : std::vector<std::array<int64_t, 4>>{
           {2, 2, 0, 26}, {2, 2, 0, 7}, {2, 2, 0, 11}, {3, 2, 1, 9}, {3, 1, 0, 6}}) {
    kernels::Pool2dGeom g{6, h, h + 1, k, k, s, s, p, p, 0, 0};
    g.oh = (h + 2 * p - k) / s + 1;
    g.ow = (h + 1 + 2 * p - k) / s + 1;
    Tensor x = randn({6, h, h + 1});
    Tensor y = empty({6, g.oh, g.ow}), yr = empty({6, g.oh, g.ow});
    std::vector<int32_t> a(6 * g.oh * g.ow), ar(6 * g.oh * g.ow);
    kernels::max_pool2d_forward<float>(g, x.data<float>(), y.data<float>(), a.data());
    kernels::max_pool2d_forward_ref<float>(g, x.data<float>(), yr.data<float>(), ar.data());
    EXPECT_EQ(y.to_vector<float>(), yr.to_vector<float>()) << "kernel " << k << " stride " << s;
    EXPECT_EQ(a, ar);
    // Backward: each window's gradient lands on its argmax (zero elsewhere, nothing left stale), as a
    // scatter-add into zeros does; the 2x2 fast path (vectorised 4 windows at a time) must agree with it.
    Tensor dy = randn({6, g.oh, g.ow});
    std::vector<float> dx(size_t(6 * h * (h + 1)), 123.f), want(dx.size(), 0.f);
    kernels::max_pool2d_backward<float>(g, dy.data<float>(), a.data(), dx.data());
    const float* d = dy.data<float>();
    for (int64_t pl = 0; pl < 6; ++pl)
      for (int64_t q = 0; q < g.oh * g.ow; ++q)
        want[size_t(pl * h * (h + 1) + ar[size_t(pl * g.oh * g.ow + q)])] += d[pl * g.oh * g.ow + q];
    EXPECT_EQ(dx, want) << "backward, kernel " << k << " stride " << s;
  }
}

TEST(MaxPool2d, GradientGoesToArgmaxOnly) {
  Tensor x = from_vector(std::vector<float>{1, 5, 2, 3, 0, 4, 9, 8, 7, 6, 1, 2, 3, 4, 5, 6}, {1, 1, 4, 4});
  x.requires_grad_();
  Tensor y = max_pool2d(x, {2, 2});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{5, 9, 7, 6}));
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<float>(),
            (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(Pool2d, ErrorsAndShapes) {
  EXPECT_THROW(max_pool2d(zeros({2, 4}), {2, 2}), ShapeError);
  EXPECT_THROW(max_pool2d(zeros({1, 1, 4, 4}), {2, 2}, std::nullopt, {2, 2}), ValueError);
  EXPECT_THROW(avg_pool2d(zeros({1, 1, 2, 2}), {3, 3}), ShapeError);
  EXPECT_EQ(adaptive_avg_pool2d(zeros({2, 3, 5, 5}), {1, 1}).shape(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(global_avg_pool1d(zeros({2, 7, 3})).shape(), (Shape{2, 3}));
  EXPECT_THROW(global_avg_pool1d(zeros({2, 3})), ShapeError);
}
