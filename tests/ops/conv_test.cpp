#include "ember/kernels/conv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ember/autograd/node.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/conv.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"conv2d_basic", "conv2d", [](const Inputs& x) { return conv2d(x[0], x[1], x[2], {.padding = 1}); }},
    {"conv2d_valid_no_bias", "conv2d",
     [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), {.padding = Padding::Valid}); }},
    {"conv2d_stride2_dilation", "conv2d",
     [](const Inputs& x) {
       return conv2d(x[0], x[1], x[2], {.stride = {2, 2}, .padding = {1, 0}, .dilation = {2, 1}});
     }},
    {"conv2d_groups", "conv2d",
     [](const Inputs& x) {
       return conv2d(x[0], x[1], x[2], {.stride = {1, 2}, .padding = 1, .groups = 2});
     }},
    {"conv2d_depthwise", "conv2d",
     [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), {.padding = 1, .groups = 3}); }},
    {"conv2d_same_even_kernel", "conv2d",
     [](const Inputs& x) { return conv2d(x[0], x[1], x[2], {.padding = Padding::Same}); }},
    {"conv2d_same_dilated", "conv2d",
     [](const Inputs& x) {
       return conv2d(x[0], x[1], Tensor(), {.padding = Padding::Same, .dilation = {2, 2}});
     }},
    {"conv2d_same_stride2", "conv2d",
     [](const Inputs& x) {
       return conv2d(x[0], x[1], Tensor(), {.stride = {2, 2}, .padding = Padding::Same});
     }},
    {"conv2d_relu_basic", "conv2d_relu",
     [](const Inputs& x) { return conv2d_relu(x[0], x[1], x[2], {.padding = 1}); }},
    {"conv2d_maxpool2_relu", "conv2d_maxpool2",
     [](const Inputs& x) { return conv2d_maxpool2(x[0], x[1], x[2], {}, true); }},
    {"conv2d_maxpool2_same", "conv2d_maxpool2",
     [](const Inputs& x) { return conv2d_maxpool2(x[0], x[1], Tensor(), {.padding = 1}, false); }},
    {"conv2d_maxpool2_input_grad", "conv2d_maxpool2",
     [](const Inputs& x) { return conv2d_maxpool2(x[0], x[1], x[2], {}, true); }},
    {"conv2d_maxpool2_winograd", "conv2d_maxpool2",
     [](const Inputs& x) { return conv2d_maxpool2(x[0], x[1], x[2], {}, true); }},
    {"conv2d_maxpool2_winograd_same", "conv2d_maxpool2",
     [](const Inputs& x) { return conv2d_maxpool2(x[0], x[1], Tensor(), {.padding = 1}, false); }},
});

namespace {

std::vector<float> to_f(const Tensor& t) {
  return t.to_vector<float>();
}

// With rms_scale set, the tolerance also grows with the root mean square of the reference: the Winograd
// kernels round like a sum of terms of the output's typical size, so an output that cancels to near 0 carries
// an absolute error of about 1e-5 of that size rather than of its own.
float rms_scale = 0.f;

void expect_near_all(const std::vector<float>& a, const std::vector<float>& b, float tol, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double ss = 0;
  for (float v : b) ss += double(v) * v;
  const float rms = b.empty() ? 0.f : float(std::sqrt(ss / double(b.size())));
  int bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > tol * (1 + std::abs(b[i]) + rms_scale * rms) && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": " << a[i] << " vs ref " << b[i];
  }
}

// oneDNN (float32) against the reference loops, forward and both backward kernels.
void check_onednn_vs_ref(const kernels::Conv2dGeom& g, bool bias) {
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = randn({g.o, g.c / g.groups, g.kh, g.kw}), b = randn({g.o});
  Tensor dy = randn({g.n, g.o, g.oh, g.ow});
  Tensor y = empty(dy.shape()), yr = empty(dy.shape());
  const float* bp = bias ? b.data<float>() : nullptr;
  kernels::conv2d_forward(g, x.data<float>(), w.data<float>(), bp, y.data<float>(), false);
  kernels::conv2d_forward_ref(g, x.data<float>(), w.data<float>(), bp, yr.data<float>());
  expect_near_all(to_f(y), to_f(yr), 1e-4f, "forward");
  Tensor dx = empty(x.shape()), dxr = empty(x.shape());
  kernels::conv2d_backward_data(g, dy.data<float>(), w.data<float>(), dx.data<float>());
  kernels::conv2d_backward_data_ref(g, dy.data<float>(), w.data<float>(), dxr.data<float>());
  expect_near_all(to_f(dx), to_f(dxr), 1e-4f, "backward data");
  Tensor dw = empty(w.shape()), dwr = empty(w.shape()), db = empty({g.o}), dbr = empty({g.o});
  kernels::conv2d_backward_weights(g, x.data<float>(), dy.data<float>(), dw.data<float>(),
                                   bias ? db.data<float>() : nullptr);
  kernels::conv2d_backward_weights_ref(g, x.data<float>(), dy.data<float>(), dwr.data<float>(),
                                       bias ? dbr.data<float>() : nullptr);
  expect_near_all(to_f(dw), to_f(dwr), 1e-3f, "backward weights");
  if (bias) expect_near_all(to_f(db), to_f(dbr), 1e-3f, "backward bias");
}

// Keeps 3x3 stride-1 layers off the Winograd kernels for a scope (tests of the other paths).
struct WinogradOff {
  bool was = kernels::conv2d_set_winograd(false);
  ~WinogradOff() { kernels::conv2d_set_winograd(was); }
};

kernels::Conv2dGeom geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int64_t s,
                         int64_t pt, int64_t pb, int64_t d, int64_t groups) {
  kernels::Conv2dGeom g{n, c, h, w, o, k, k, s, s, pt, pb, pt, pb, d, d, groups, 1, 1};
  g.oh = (h + pt + pb - d * (k - 1) - 1) / s + 1;
  g.ow = (w + pt + pb - d * (k - 1) - 1) / s + 1;
  return g;
}

}  // namespace

TEST(Conv2d, OneDnnMatchesReferenceOnOddShapes) {
  WinogradOff off;  // 3x3 stride-1 shapes below would take the Winograd kernels
  check_onednn_vs_ref(geom(3, 5, 11, 9, 7, 3, 2, 1, 1, 1, 1), true);    // stride 2
  check_onednn_vs_ref(geom(2, 4, 13, 10, 6, 3, 1, 2, 2, 2, 1), false);  // dilation 2
  check_onednn_vs_ref(geom(2, 6, 9, 9, 9, 3, 1, 1, 1, 1, 3), true);     // groups 3
  check_onednn_vs_ref(geom(2, 3, 8, 7, 5, 4, 1, 1, 2, 1, 1),
                      true);  // same padding, even kernel (1 before, 2 after)
  check_onednn_vs_ref(geom(4, 1, 28, 28, 32, 3, 1, 0, 0, 1, 1), true);  // the MNIST first layer
  // 8-63 input channels per group: plain forward, im2col + sgemm weight gradient.
  check_onednn_vs_ref(geom(3, 16, 9, 11, 24, 3, 1, 1, 1, 1, 1), true);
  check_onednn_vs_ref(geom(2, 16, 10, 9, 12, 3, 2, 1, 1, 1, 2), false);  // groups 2, stride 2
  check_onednn_vs_ref(geom(2, 8, 12, 12, 8, 3, 1, 2, 2, 2, 1), true);    // dilation 2
  // 64+ input channels per group: oneDNN's blocked layouts with cached reorders.
  check_onednn_vs_ref(geom(2, 64, 7, 6, 16, 3, 1, 1, 1, 1, 1), true);
  check_onednn_vs_ref(geom(1, 128, 7, 7, 16, 3, 2, 1, 1, 1, 2), false);  // groups 2, stride 2
  // Repeated calls reuse the cached primitive and buffers and give the same answer.
  check_onednn_vs_ref(geom(3, 5, 11, 9, 7, 3, 2, 1, 1, 1, 1), true);
}

// Ember's im2col + AVX2 GEMM path (5+ input channels, groups 1; forward for rows of 8+, backward data see
// conv.cpp's gates, weight gradient always): valid and same padding, stride 2, dilation, batch 1 and odd
// sizes, channel counts that do and do not fill the 6x16 tiles, fused ReLU, and 1 vs 2 threads (each
// bitwise deterministic for its thread count).
static void check_gemm_path(const kernels::Conv2dGeom& g, bool bias) {
  check_onednn_vs_ref(g, bias);
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = randn({g.o, g.c / g.groups, g.kh, g.kw}), b = randn({g.o});
  Tensor dy = randn({g.n, g.o, g.oh, g.ow});
  const float* bp = bias ? b.data<float>() : nullptr;
  Tensor y = empty(dy.shape()), yr = empty(dy.shape());
  kernels::conv2d_forward(g, x.data<float>(), w.data<float>(), bp, y.data<float>(), true);
  kernels::conv2d_forward_ref(g, x.data<float>(), w.data<float>(), bp, yr.data<float>());
  std::vector<float> want = to_f(yr);
  for (float& v : want) v = std::max(v, 0.f);
  expect_near_all(to_f(y), want, 1e-4f, "forward relu");
  const int threads = num_threads();
  std::vector<std::vector<float>> runs;
  for (int t : {1, 2, 1}) {
    set_num_threads(t);
    Tensor dx = empty(x.shape()), dw = empty(w.shape()), db = empty({g.o});
    kernels::conv2d_forward(g, x.data<float>(), w.data<float>(), bp, y.data<float>(), true);
    kernels::conv2d_backward_data(g, dy.data<float>(), w.data<float>(), dx.data<float>());
    kernels::conv2d_backward_weights(g, x.data<float>(), dy.data<float>(), dw.data<float>(),
                                     db.data<float>());
    std::vector<float> all = to_f(y);
    for (const Tensor* t2 : {&dx, &dw, &db}) {
      std::vector<float> v = to_f(*t2);
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  set_num_threads(threads);
  EXPECT_EQ(runs[0], runs[2]) << "1-thread results differ between calls";
  expect_near_all(runs[1], runs[0], 1e-4f, "2 threads vs 1");
}

TEST(Conv2d, GemmPathMatchesReference) {
  WinogradOff off;  // the 3x3 stride-1 shapes below would take the Winograd kernels
  check_gemm_path(geom(64, 32, 13, 13, 64, 3, 1, 0, 0, 1, 1), true);  // the Keras CNN's second layer
  check_gemm_path(geom(64, 64, 5, 5, 64, 3, 1, 0, 0, 1, 1), true);    // and its third
  check_gemm_path(geom(1, 16, 9, 11, 32, 3, 1, 1, 1, 1, 1), false);   // batch 1, same padding
  check_gemm_path(geom(3, 5, 11, 9, 7, 3, 2, 1, 1, 1, 1), true);      // 5 channels, stride 2
  check_gemm_path(geom(5, 128, 6, 7, 20, 3, 1, 1, 1, 1, 1), true);    // 128 channels, deep K blocking
  check_gemm_path(geom(2, 24, 12, 10, 17, 3, 2, 0, 1, 1, 1), true);   // stride 2, asymmetric padding
  check_gemm_path(geom(3, 8, 12, 12, 8, 3, 1, 2, 2, 2, 1), false);    // dilation 2
  check_gemm_path(geom(2, 6, 8, 7, 5, 4, 1, 1, 2, 1, 1), true);       // even kernel, same padding
  check_gemm_path(geom(3, 7, 1, 40, 9, 1, 1, 0, 0, 1, 1), true);      // 1x1 kernel on a 1-row image
  check_gemm_path(geom(7, 33, 4, 4, 70, 2, 1, 0, 0, 1, 1), true);     // odd channel counts, tiny planes
  // Geometries that also take the GEMM backward-data path (o >= 48, rows of 8+, planes up to 256 pixels).
  check_gemm_path(geom(2, 16, 10, 12, 50, 3, 1, 1, 1, 1, 1), true);   // same padding, o not a tile multiple
  check_gemm_path(geom(3, 24, 17, 19, 48, 3, 2, 1, 1, 1, 1), false);  // stride 2 (scatter col2im)
  check_gemm_path(geom(2, 8, 14, 14, 64, 3, 1, 2, 2, 2, 1), true);    // dilation 2
  check_gemm_path(geom(1, 32, 9, 11, 96, 3, 1, 1, 1, 1, 1), true);    // batch 1
  check_gemm_path(geom(3, 64, 12, 10, 64, 5, 1, 2, 2, 1, 1), true);   // 5x5 kernel, 64 channels
}

// The Winograd F(4x4, 3x3) kernels (3x3, stride 1, 8+ channels): valid and same padding, planes that do and
// do not fill whole 4x4 tiles, blocks of tiles spanning images, channel counts off the 8/16 multiples, batch
// 1, and 1 vs 2 threads, through the same checks as the GEMM path.
TEST(Conv2d, WinogradMatchesReference) {
  using kernels::ConvPass;
  if (!kernels::conv2d_takes_winograd(geom(1, 8, 6, 6, 8, 3, 1, 0, 0, 1, 1), ConvPass::Forward))
    GTEST_SKIP() << "no AVX2/FMA (or EMBER_CONV_WINOGRAD=0)";
  rms_scale = 1.f;
  auto check = [](const kernels::Conv2dGeom& g, bool bias) {
    for (ConvPass p : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
      EXPECT_TRUE(kernels::conv2d_takes_winograd(g, p)) << "pass " << int(p);
    check_gemm_path(g, bias);
  };
  check(geom(9, 32, 13, 13, 64, 3, 1, 0, 0, 1, 1), true);               // the Keras CNN's second layer
  check(geom(1, 16, 9, 11, 32, 3, 1, 1, 1, 1, 1), false);               // batch 1, same padding
  check(geom(3, 8, 12, 12, 8, 3, 1, 1, 1, 1, 1), true);                 // exact tiles, same padding
  check(geom(5, 13, 10, 7, 21, 3, 1, 0, 0, 1, 1), true);                // channels off the multiples
  check(geom(2, 40, 30, 29, 24, 3, 1, 1, 1, 1, 1), true);               // many tiles per image
  check(geom(7, 9, 10, 10, 70, 3, 1, 0, 0, 1, 1), false);               // odd counts, exact tiles
  check(geom(3, 24, 6, 8, 16, 3, 1, 2, 2, 1, 1), true);                 // padding 2 (full correlation)
  kernels::Conv2dGeom asym = geom(2, 12, 9, 10, 20, 3, 1, 0, 0, 1, 1);  // asymmetric padding
  asym.pt = 1, asym.pb = 0, asym.pl = 2, asym.pr = 1;
  asym.oh = asym.h + asym.pt + asym.pb - 2, asym.ow = asym.w + asym.pl + asym.pr - 2;
  check(asym, true);
  // Small planes stay on the other kernels (4x4 tiles would mostly cover padding); so do strides and
  // other kernel sizes.
  EXPECT_FALSE(kernels::conv2d_takes_winograd(geom(64, 64, 5, 5, 64, 3, 1, 0, 0, 1, 1), ConvPass::Forward));
  EXPECT_FALSE(kernels::conv2d_takes_winograd(geom(2, 16, 12, 12, 16, 3, 2, 1, 1, 1, 1), ConvPass::Forward));
  EXPECT_FALSE(kernels::conv2d_takes_winograd(geom(2, 16, 12, 12, 16, 5, 1, 2, 2, 1, 1), ConvPass::Forward));
  EXPECT_FALSE(kernels::conv2d_takes_winograd(geom(2, 4, 12, 12, 16, 3, 1, 1, 1, 1, 1), ConvPass::Forward));
  rms_scale = 0.f;
}

TEST(Conv2d, SamePaddingKeepsSizeAndEvenKernelPadsAfter) {
  Tensor x = randn({1, 2, 6, 5}), w = randn({3, 2, 4, 2});
  Tensor y = conv2d(x, w, Tensor(), {.padding = Padding::Same});
  EXPECT_EQ(y.shape(), (Shape{1, 3, 6, 5}));
  // Same result as explicit asymmetric padding done by hand through a zero-padded copy: top 1, bottom 2.
  Tensor xp = zeros({1, 2, 9, 6});
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 5; ++j) xp.set({0, c, i + 1, j}, x.at({0, c, i, j}));
  Tensor ye = conv2d(xp, w);
  EXPECT_EQ(ye.shape(), y.shape());
  expect_near_all(to_f(y), to_f(ye), 1e-5f, "same vs explicit");
  EXPECT_EQ(
      conv2d(randn({1, 1, 7, 7}), randn({1, 1, 3, 3}), Tensor(), {.stride = {2, 2}, .padding = Padding::Same})
          .shape(),
      (Shape{1, 1, 4, 4}));
}

TEST(Conv2d, ReluFusedMatchesUnfused) {
  Tensor x = randn({2, 3, 6, 6}), w = randn({4, 3, 3, 3}), b = randn({4});
  std::vector<float> want = to_f(conv2d(x, w, b));
  for (float& v : want) v = v > 0 ? v : 0;
  expect_near_all(to_f(conv2d_relu(x, w, b)), want, 1e-5f, "conv2d_relu");
}

TEST(Conv2d, ErrorsNameOpAndShapes) {
  try {
    conv2d(zeros({2, 3, 8, 8}), zeros({4, 2, 3, 3}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 3, 8, 8)"), std::string::npos) << m;
    EXPECT_NE(m.find("(4, 2, 3, 3)"), std::string::npos) << m;
  }
  try {
    conv2d(zeros({3, 8, 8}), zeros({4, 3, 3, 3}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rank 4"), std::string::npos) << m;
    EXPECT_NE(m.find("(3, 8, 8)"), std::string::npos) << m;
  }
  EXPECT_THROW(conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3})), ShapeError);
  EXPECT_NO_THROW(conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3}), Tensor(), {.padding = 1}));
  EXPECT_THROW(conv2d(zeros({1, 4, 5, 5}), zeros({3, 2, 3, 3}), Tensor(), {.groups = 2}), ShapeError);
  EXPECT_THROW(conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}), zeros({4})), ShapeError);
  EXPECT_THROW(conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}, DType::Float64)), DTypeError);
}

namespace {

kernels::Conv2dGeom geom_rect(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                              int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  kernels::Conv2dGeom g{n, c, h, w, o, kh, kw, 1, 1, pt, pb, pl, pr, 1, 1, 1, 1, 1};
  g.oh = h + pt + pb - kh + 1;
  g.ow = w + pl + pr - kw + 1;
  return g;
}

// The direct kernel (1-4 input channels, stride 1) against the reference loops; the weight gradient also with
// a ReLU mask applied on the fly.
void check_direct_vs_ref(const kernels::Conv2dGeom& g, bool bias) {
  ASSERT_TRUE(kernels::conv2d_direct_supported(g));
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = randn({g.o, g.c, g.kh, g.kw}), b = randn({g.o});
  Tensor dy = randn({g.n, g.o, g.oh, g.ow});
  const float* bp = bias ? b.data<float>() : nullptr;
  Tensor y = empty(dy.shape()), yr = empty(dy.shape());
  ASSERT_TRUE(
      kernels::conv2d_forward_direct(g, x.data<float>(), w.data<float>(), bp, y.data<float>(), false));
  kernels::conv2d_forward_ref(g, x.data<float>(), w.data<float>(), bp, yr.data<float>());
  expect_near_all(to_f(y), to_f(yr), 1e-4f, "direct forward");
  Tensor yrelu = empty(dy.shape());
  ASSERT_TRUE(
      kernels::conv2d_forward_direct(g, x.data<float>(), w.data<float>(), bp, yrelu.data<float>(), true));
  std::vector<float> want = to_f(yr);
  for (float& v : want) v = v > 0 ? v : 0;
  expect_near_all(to_f(yrelu), want, 1e-4f, "direct forward relu");

  Tensor dw = empty(w.shape()), dwr = empty(w.shape()), db = empty({g.o}), dbr = empty({g.o});
  ASSERT_TRUE(kernels::conv2d_backward_weights_direct(g, x.data<float>(), dy.data<float>(), nullptr,
                                                      dw.data<float>(), bias ? db.data<float>() : nullptr));
  kernels::conv2d_backward_weights_ref(g, x.data<float>(), dy.data<float>(), dwr.data<float>(),
                                       bias ? dbr.data<float>() : nullptr);
  expect_near_all(to_f(dw), to_f(dwr), 1e-3f, "direct weight gradient");
  if (bias) expect_near_all(to_f(db), to_f(dbr), 1e-3f, "direct bias gradient");

  // Masked by the ReLU output: the same as the reference on the masked gradient.
  Tensor dym = clone(dy);
  float* d = dym.data<float>();
  const float* m = yrelu.data<float>();
  for (int64_t i = 0; i < dym.numel(); ++i) d[i] = m[i] > 0 ? d[i] : 0.f;
  ASSERT_TRUE(kernels::conv2d_backward_weights_direct(
      g, x.data<float>(), dy.data<float>(), yrelu.data<float>(), dw.data<float>(), db.data<float>()));
  kernels::conv2d_backward_weights_ref(g, x.data<float>(), dym.data<float>(), dwr.data<float>(),
                                       dbr.data<float>());
  expect_near_all(to_f(dw), to_f(dwr), 1e-3f, "direct weight gradient, relu mask");
  expect_near_all(to_f(db), to_f(dbr), 1e-3f, "direct bias gradient, relu mask");
}

}  // namespace

TEST(Conv2d, DirectKernelMatchesReference) {
  if (!kernels::conv2d_direct_supported(geom_rect(1, 1, 5, 5, 1, 3, 3, 0, 0, 0, 0)))
    GTEST_SKIP() << "no AVX2/FMA (or EMBER_CONV_NO_DIRECT set)";
  check_direct_vs_ref(geom_rect(4, 1, 28, 28, 32, 3, 3, 0, 0, 0, 0), true);   // the MNIST first layer
  check_direct_vs_ref(geom_rect(1, 1, 28, 28, 32, 3, 3, 0, 0, 0, 0), true);   // batch 1
  check_direct_vs_ref(geom_rect(3, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1), false);    // RGB, 'same', 5 outputs
  check_direct_vs_ref(geom_rect(2, 2, 7, 13, 7, 2, 5, 0, 1, 2, 2), true);     // rectangular, asymmetric pads
  check_direct_vs_ref(geom_rect(2, 4, 6, 6, 3, 1, 1, 0, 0, 0, 0), true);      // 1x1, 4 channels
  check_direct_vs_ref(geom_rect(2, 1, 5, 4, 9, 5, 4, 0, 0, 0, 0), true);      // kernel = the whole image
  check_direct_vs_ref(geom_rect(5, 3, 17, 17, 16, 7, 7, 3, 3, 3, 3), false);  // 147 taps (chunks of 12)
  // Repeated calls with another geometry in between (per-thread buffers are reshaped and re-zeroed).
  check_direct_vs_ref(geom_rect(4, 1, 28, 28, 32, 3, 3, 0, 0, 0, 0), true);
  // Not handled: stride 2, 5 channels, groups.
  EXPECT_FALSE(kernels::conv2d_direct_supported(geom(2, 1, 9, 9, 4, 3, 2, 0, 0, 1, 1)));
  EXPECT_FALSE(kernels::conv2d_direct_supported(geom(2, 5, 9, 9, 4, 3, 1, 0, 0, 1, 1)));
  EXPECT_FALSE(kernels::conv2d_direct_supported(geom(2, 4, 9, 9, 4, 3, 1, 0, 0, 1, 2)));
}

namespace {

// conv2d_maxpool2 on an input without gradient (or with one: x_grad) through a fused kernel against the three
// float32 ops.
void check_conv_pool(const Shape& xs, const Shape& ws, const Conv2dParams& p, bool bias, bool relu,
                     bool with_nan = false, bool x_grad = false) {
  Tensor x = randn(xs);
  if (with_nan) x.data<float>()[x.numel() / 3] = std::nanf("");
  Tensor x2 = x;
  if (x_grad) {
    x.requires_grad_();
    x2 = clone(x.detach()).requires_grad_();
  }
  Tensor w = randn(ws).requires_grad_(), b = bias ? randn({ws[0]}).requires_grad_() : Tensor();
  Tensor w2 = clone(w.detach()).requires_grad_();
  Tensor b2 = bias ? clone(b.detach()).requires_grad_() : Tensor();
  Tensor y = conv2d_maxpool2(x, w, b, p, relu);
  ASSERT_TRUE(y.grad_fn() != nullptr);
  EXPECT_STREQ(y.grad_fn()->name(), "conv2d_maxpool2");  // the fused node, not the composition
  Tensor yr = max_pool2d(conv2d(x2, w2, b2, p), {2, 2});
  if (relu) yr = ember::relu(yr);
  ASSERT_EQ(y.shape(), yr.shape());
  auto a = to_f(y), r = to_f(yr);
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(r[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << "element " << i;
      a[i] = r[i] = 0;
    }
  }
  expect_near_all(a, r, 1e-4f, "conv2d_maxpool2 forward");
  if (with_nan) return;
  Tensor gy = randn(y.shape());
  y.backward(gy);
  yr.backward(gy);
  expect_near_all(to_f(w.grad()), to_f(w2.grad()), 1e-3f, "conv2d_maxpool2 weight gradient");
  if (bias) expect_near_all(to_f(b.grad()), to_f(b2.grad()), 1e-3f, "conv2d_maxpool2 bias gradient");
  if (x_grad) expect_near_all(to_f(x.grad()), to_f(x2.grad()), 1e-4f, "conv2d_maxpool2 input gradient");
}

}  // namespace

TEST(Conv2d, MaxPool2FusedMatchesComposition) {
  if (!kernels::conv2d_direct_supported(geom_rect(1, 1, 5, 5, 1, 3, 3, 0, 0, 0, 0)))
    GTEST_SKIP() << "no AVX2/FMA (or EMBER_CONV_NO_DIRECT set)";
  check_conv_pool({8, 1, 28, 28}, {32, 1, 3, 3}, {}, true, true);   // the seed CNN
  check_conv_pool({8, 1, 28, 28}, {32, 1, 3, 3}, {}, true, false);  // no ReLU
  check_conv_pool({1, 1, 28, 28}, {32, 1, 3, 3}, {}, false, true);  // batch 1, no bias
  check_conv_pool({3, 3, 27, 21}, {5, 3, 3, 3}, {.padding = Padding::Same}, true,
                  true);                                                             // odd: floor pooling
  check_conv_pool({2, 2, 40, 37}, {6, 2, 4, 2}, {.padding = {1, 0}}, true, true);    // wide rows (tail)
  check_conv_pool({2, 1, 4, 4}, {3, 1, 3, 3}, {}, true, true);                       // 2x2 -> 1x1
  check_conv_pool({2, 1, 12, 12}, {4, 1, 3, 3}, {}, true, true, /*with_nan=*/true);  // NaN wins
}

// 3x3 stride-1 layers with 8+ channels: the Winograd output transform pools each 4x4 tile, and the backward
// passes unpool the gradient as they read it. The composition runs the same Winograd convolution, so the
// argmaxes agree exactly; rounding differs only in the bias gradient's sum.
TEST(Conv2d, WinogradMaxPool2FusedMatchesComposition) {
  if (!kernels::conv2d_pool2_winograd_supported(geom(1, 8, 10, 10, 8, 3, 1, 0, 0, 1, 1)))
    GTEST_SKIP() << "no AVX2/FMA (or EMBER_CONV_WINOGRAD=0)";
  rms_scale = 1.f;
  const bool nan = false, xg = true;
  check_conv_pool({9, 32, 13, 13}, {64, 32, 3, 3}, {}, true, true, nan, xg);  // the Keras CNN's second layer
  check_conv_pool({9, 32, 13, 13}, {64, 32, 3, 3}, {}, true, true);           // no input gradient
  check_conv_pool({3, 8, 12, 12}, {8, 8, 3, 3}, {.padding = 1}, false, false, nan, xg);  // exact tiles
  check_conv_pool({2, 13, 11, 12}, {21, 13, 3, 3}, {}, true, true, nan, xg);  // odd counts, 9x10 -> 4x5
  check_conv_pool({1, 16, 9, 11}, {24, 16, 3, 3}, {.padding = Padding::Same}, true, false, nan,
                  xg);                                                                         // batch 1
  check_conv_pool({2, 40, 30, 29}, {16, 40, 3, 3}, {.padding = {2, 1}}, true, true, nan, xg);  // many tiles
  check_conv_pool({2, 8, 12, 12}, {8, 8, 3, 3}, {.padding = 1}, true, true, /*with_nan=*/true, xg);
  Tensor x = randn({2, 8, 10, 10}).requires_grad_();
  EXPECT_STREQ(conv2d_maxpool2(x, randn({8, 8, 3, 3}), Tensor(), {}, true).grad_fn()->name(),
               "conv2d_maxpool2");
  // Switching the kernels off between the forward and the backward does not change the gradients.
  {
    Tensor w = randn({8, 8, 3, 3}).requires_grad_(), gy = randn({2, 8, 4, 4});
    Tensor y1 = conv2d_maxpool2(x, w, Tensor(), {}, true);
    y1.backward(gy);
    const auto dx1 = to_f(x.grad()), dw1 = to_f(w.grad());
    x.zero_grad(), w.zero_grad();
    Tensor y2 = conv2d_maxpool2(x, w, Tensor(), {}, true);
    {
      WinogradOff off;
      y2.backward(gy);
    }
    EXPECT_EQ(to_f(x.grad()), dx1);
    EXPECT_EQ(to_f(w.grad()), dw1);
  }
  // 5x5 and smaller planes stay on the composition (as the convolution stays off the Winograd kernels).
  EXPECT_FALSE(kernels::conv2d_pool2_winograd_supported(geom(64, 64, 7, 7, 64, 3, 1, 0, 0, 1, 1)));
  rms_scale = 0.f;
}

TEST(Conv2d, MaxPool2FallsBackToTheComposition) {
  // An input that needs a gradient, stride 2, and 5 channels all take the three-op path (same values).
  Tensor x = randn({2, 1, 12, 12}).requires_grad_(), w = randn({4, 1, 3, 3}).requires_grad_();
  Tensor y = conv2d_maxpool2(x, w, Tensor(), {}, true);
  EXPECT_STRNE(y.grad_fn()->name(), "conv2d_maxpool2");
  expect_near_all(to_f(y), to_f(ember::relu(max_pool2d(conv2d(x, w), {2, 2}))), 1e-5f, "fallback");
  sum(y).backward();
  EXPECT_TRUE(x.grad().defined());
  Tensor x5 = randn({1, 5, 9, 9}), w5 = randn({2, 5, 3, 3});
  expect_near_all(to_f(conv2d_maxpool2(x5, w5, Tensor(), {.stride = {2, 2}}, false)),
                  to_f(max_pool2d(conv2d(x5, w5, Tensor(), {.stride = {2, 2}}), {2, 2})), 1e-5f, "stride 2");
  EXPECT_THROW(conv2d_maxpool2(zeros({1, 2, 8, 8}), zeros({4, 1, 3, 3}), Tensor(), {}, true), ShapeError);
}
