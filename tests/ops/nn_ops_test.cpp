#include "ember/ops/nn_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"
#include "ember/kernels/random.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"linear_2d", "linear", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }},
    {"linear_3d_input", "linear", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }},
    {"linear_no_bias", "linear", [](const Inputs& x) { return linear(x[0], x[1]); }},
    {"linear_1d_input", "linear", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }},
    {"linear_transposed_weight", "linear",
     [](const Inputs& x) { return linear(x[0], transpose(x[1], 0, 1), x[2]); }},
    {"linear_weight_only_grad", "linear", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }},
    {"dropout_p0_training", "dropout", [](const Inputs& x) { return dropout(x[0], 0.0, true); }},
    {"dropout_eval_identity", "dropout", [](const Inputs& x) { return dropout(x[0], 0.5, false); }},
});

TEST(Linear, MatchesMatmulPlusBiasOnLargeInput) {
  Generator g(3);
  Tensor x = randn({64, 100}, &g), w = randn({30, 100}, &g), b = randn({30}, &g);
  Tensor y = linear(x, w, b);
  Tensor ref = zeros({64, 30});
  kernels::gemm_ref<float>(false, true, 64, 30, 100, 1.f, x.data<float>(), 100, w.data<float>(), 100, 0.f,
                           ref.data<float>(), 30);
  auto yv = y.to_vector<float>(), rv = ref.to_vector<float>(), bv = b.to_vector<float>();
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_NEAR(yv[i], rv[i] + bv[i % 30], 1e-4);
}

// Weights that are strided views (slices, transposes, size-1 extents) give what matmul gives, forward and
// back.
TEST(Linear, StridedWeightViews) {
  Generator g(8);
  Tensor big = randn({6, 10}, &g, DType::Float64);
  std::vector<std::function<Tensor(const Tensor&)>> views = {
      [](const Tensor& t) { return slice(t, 1, 2, 5); },                   // (6, 3), row stride 10
      [](const Tensor& t) { return slice(t, 1, 4, 5); },                   // (6, 1): in == 1
      [](const Tensor& t) { return slice(t, 0, 3, 4); },                   // (1, 10): out == 1
      [](const Tensor& t) { return transpose(slice(t, 0, 1, 4), 0, 1); },  // (10, 3), column-major
      [](const Tensor& t) { return slice(t, 1, 0, 10, 2); },               // (6, 5), column stride 2: copied
  };
  for (auto& view : views) {
    Tensor base1 = copy_as(big, DType::Float64).requires_grad_();
    Tensor base2 = copy_as(big, DType::Float64).requires_grad_();
    Tensor w1 = view(base1), w2 = view(base2);
    Tensor x1 = randn({4, w1.shape()[1]}, &g, DType::Float64).requires_grad_();
    Tensor x2 = copy_as(x1, DType::Float64).requires_grad_();
    Tensor gout = randn({4, w1.shape()[0]}, &g, DType::Float64);
    Tensor y = linear(x1, w1);
    Tensor y_ref = matmul(x2, transpose(w2, 0, 1));
    y.backward(gout);
    y_ref.backward(gout);
    auto close = [&](const Tensor& a, const Tensor& b, const char* what) {
      ASSERT_EQ(a.shape(), b.shape()) << what;
      auto av = a.to_double_vector(), bv = b.to_double_vector();
      for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-12) << what << " " << w1.shape();
    };
    close(y, y_ref, "output");
    close(x1.grad(), x2.grad(), "dx");
    close(base1.grad(), base2.grad(), "dW");
  }
}

TEST(Linear, ErrorsNameShapes) {
  try {
    linear(zeros({2, 3}), zeros({4, 5}), zeros({4}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("linear"), std::string::npos);
    EXPECT_NE(m.find("(2, 3)"), std::string::npos);
    EXPECT_NE(m.find("(4, 5)"), std::string::npos);
  }
  EXPECT_THROW(linear(zeros({2, 5}), zeros({4, 5}), zeros({3})), ShapeError);
  EXPECT_THROW(linear(zeros({2, 5}), zeros({5}), Tensor()), ShapeError);
  EXPECT_THROW(linear(zeros({2, 5}), zeros({4, 5}, DType::Float64), Tensor()), DTypeError);
}

TEST(Dropout, StatisticsAndScaling) {
  Generator g(11);
  const double p = 0.3;
  Tensor x = ones({200, 500});
  Tensor y = dropout(x, p, true, &g);
  auto v = y.to_vector<float>();
  int64_t zeros_count = 0;
  double sum = 0;
  for (float e : v) {
    if (e == 0.f) {
      ++zeros_count;
    } else {
      EXPECT_FLOAT_EQ(e, static_cast<float>(1.0 / (1.0 - p)));
    }
    sum += e;
  }
  const double n = static_cast<double>(v.size());
  // Binomial(n, p): the dropped fraction lies within 5 standard deviations of p.
  double frac = zeros_count / n, sd = std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(frac, p, 5 * sd);
  EXPECT_NEAR(sum / n, 1.0, 5 * sd / (1 - p));
}

TEST(Dropout, SameSeedSameMaskAndEdgeCases) {
  Generator g1(5), g2(5);
  Tensor x = randn({10, 10});
  EXPECT_EQ(dropout(x, 0.5, true, &g1).to_vector<float>(), dropout(x, 0.5, true, &g2).to_vector<float>());
  Tensor all = dropout(x, 1.0, true, &g1);
  for (float e : all.to_vector<float>()) EXPECT_EQ(e, 0.f);
  EXPECT_TRUE(dropout(x, 0.5, false).same(x));
  EXPECT_THROW(dropout(x, 1.5, true), ValueError);
  EXPECT_THROW(dropout(x, -0.1, true), ValueError);
}

// The gradient with a fixed mask (a fresh generator with the same seed per evaluation) against central
// differences in float64, and the analytic form g * mask / (1 - p).
TEST(Dropout, GradcheckWithFixedMask) {
  const double p = 0.4, eps = 1e-6;
  Tensor x = randn({4, 6}, nullptr, DType::Float64);
  Tensor gout = randn({4, 6}, nullptr, DType::Float64);
  auto run = [&](const Tensor& in) {
    Generator g(99);
    return dropout(in, p, true, &g);
  };
  Tensor xr = copy_as(x, DType::Float64).requires_grad_();
  Tensor y = run(xr);
  y.backward(gout);
  auto an = xr.grad().to_double_vector();
  auto yv = y.to_double_vector(), gv = gout.to_double_vector();
  auto loss = [&](const Tensor& in) {
    auto o = run(in).to_double_vector();
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * gv[i];
    return s;
  };
  int kept = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    Tensor plus = copy_as(x, DType::Float64), minus = copy_as(x, DType::Float64);
    plus.data<double>()[i] += eps;
    minus.data<double>()[i] -= eps;
    double num = (loss(plus) - loss(minus)) / (2 * eps);
    EXPECT_NEAR(an[i], num, 1e-6 + 1e-5 * std::abs(num)) << "element " << i;
    bool keep = yv[i] != 0.0;
    kept += keep;
    EXPECT_NEAR(an[i], keep ? gv[i] / (1 - p) : 0.0, 1e-12);
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, x.numel());
}

// The parallel mask: the same for 1 and 2 threads and for every split, the right fraction, the edge cases.
TEST(Dropout, ParallelMaskIndependentOfThreadsAndFair) {
  const int64_t n = 100001;  // odd: the last pair has one element
  const int before = num_threads();
  std::vector<std::vector<char>> masks;
  for (int t : {1, 2}) {
    set_num_threads(t);
    std::unique_ptr<bool[]> keep(new bool[n]);
    kernels::bernoulli_keep(12345, 0.25, keep.get(), n);
    masks.emplace_back(keep.get(), keep.get() + n);
  }
  set_num_threads(before);
  EXPECT_EQ(masks[0], masks[1]);
  int64_t kept = 0;
  for (char k : masks[0]) kept += k;
  const double sd = std::sqrt(0.25 * 0.75 / double(n));
  EXPECT_NEAR(double(kept) / double(n), 0.75, 5 * sd);
  // Neighbouring elements (the two halves of one draw) are not correlated.
  int64_t both = 0;
  for (int64_t i = 0; i + 1 < n; i += 2) both += masks[0][size_t(i)] && masks[0][size_t(i + 1)];
  EXPECT_NEAR(double(both) / double(n / 2), 0.75 * 0.75, 5 * std::sqrt(0.5625 * 0.4375 / double(n / 2)));
  std::unique_ptr<bool[]> keep(new bool[7]);
  kernels::bernoulli_keep(1, 0.0, keep.get(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(keep[size_t(i)]);
  kernels::bernoulli_keep(1, 1.0, keep.get(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(keep[size_t(i)]);
  // Another key, another mask.
  std::unique_ptr<bool[]> other(new bool[n]);
  kernels::bernoulli_keep(12346, 0.25, other.get(), n);
  EXPECT_NE(std::vector<char>(other.get(), other.get() + n), masks[0]);
}
