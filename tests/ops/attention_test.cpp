// scaled_dot_product_attention: op-table rows (PyTorch fixtures + float64 finite differences), the fused
// kernel against a composite of matmul/softmax on larger float32 shapes, dropout, all-masked rows and errors.
#include "ember/ops/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ember/ops/ops.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"sdpa_4d", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }},
    {"sdpa_3d", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }},
    {"sdpa_2d", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }},
    {"sdpa_bool_mask", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }},
    {"sdpa_bool_mask_per_batch", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }},
    {"sdpa_float_mask", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }},
    {"sdpa_causal", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, true); }},
    {"sdpa_causal_and_mask", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.0, true); }},
    {"sdpa_scale", "scaled_dot_product_attention",
     [](const Inputs& x) {
       return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, false, nullptr, 0.3);
     }},
    {"sdpa_strided_query", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(transpose(x[0], 1, 2), x[1], x[2]); }},
    {"sdpa_query_grad_only", "scaled_dot_product_attention",
     [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }},
});

namespace {

// The composite reference: the same math from matmul, masked_fill and softmax.
Tensor composite(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep, bool causal) {
  const int64_t l = q.size(-2), s = k.size(-2);
  Tensor sc = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  if (keep.defined()) sc = masked_fill(sc, logical_not(keep), -std::numeric_limits<double>::infinity());
  if (causal) {
    Tensor upper = zeros({l, s}, DType::Bool);
    for (int64_t i = 0; i < l; ++i)
      for (int64_t j = i + 1; j < s; ++j) upper.set({i, j}, 1);
    sc = masked_fill(sc, upper, -std::numeric_limits<double>::infinity());
  }
  return matmul(softmax(sc, -1), v);
}

void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  auto av = a.to_double_vector(), bv = b.to_double_vector();
  for (size_t i = 0; i < av.size(); ++i)
    ASSERT_NEAR(av[i], bv[i], tol * (1 + std::abs(bv[i]))) << what << " " << i;
}

}  // namespace

// Larger float32 shapes (several batches per thread, odd sizes): fused forward and backward against the
// composite built from other ops.
TEST(Attention, FusedMatchesComposite) {
  Generator g(21);
  for (bool causal : {false, true}) {
    Tensor q = randn({3, 4, 17, 16}, &g).requires_grad_(), k = randn({3, 4, 17, 16}, &g).requires_grad_();
    Tensor v = randn({3, 4, 17, 8}, &g).requires_grad_();
    Tensor keep = lt(rand({3, 1, 17, 17}, &g), 0.7);
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t i = 0; i < 17; ++i) keep.set({b, 0, i, 0}, 1);
    Tensor q2 = copy_as(q, DType::Float32).requires_grad_(), k2 = copy_as(k, DType::Float32).requires_grad_();
    Tensor v2 = copy_as(v, DType::Float32).requires_grad_();
    Tensor gout = randn({3, 4, 17, 8}, &g);
    Tensor y = scaled_dot_product_attention(q, k, v, keep, 0.0, causal);
    Tensor y2 = composite(q2, k2, v2, keep, causal);
    expect_close(y, y2, 1e-5, "output");
    y.backward(gout);
    y2.backward(gout);
    expect_close(q.grad(), q2.grad(), 1e-4, "dq");
    expect_close(k.grad(), k2.grad(), 1e-4, "dk");
    expect_close(v.grad(), v2.grad(), 1e-4, "dv");
  }
}

TEST(Attention, WeightsAreTheProbabilities) {
  Generator g(2);
  Tensor q = randn({2, 3, 5, 4}, &g), k = randn({2, 3, 6, 4}, &g), v = randn({2, 3, 6, 4}, &g);
  auto r = scaled_dot_product_attention_with_weights(q, k, v, Tensor(), 0.0, true);
  ASSERT_EQ(r.weights.shape(), (Shape{2, 3, 5, 6}));
  for (int64_t i = 0; i < 5; ++i) {
    double row = 0;
    for (int64_t j = 0; j < 6; ++j) {
      double w = r.weights.at({1, 2, i, j});
      row += w;
      if (j > i) {
        EXPECT_EQ(w, 0.0);
      }
    }
    EXPECT_NEAR(row, 1.0, 1e-6);
  }
  expect_close(r.output, matmul(r.weights, v), 1e-5, "output = weights @ v");
}

// Like PyTorch 1.13's nn.MultiheadAttention: a query whose keys are all masked gives NaN; other rows are
// unaffected.
TEST(Attention, AllMaskedRowIsNaN) {
  Tensor q = randn({1, 3, 2}), k = randn({1, 4, 2}), v = randn({1, 4, 2});
  Tensor keep = ones({3, 4}, DType::Bool);
  for (int64_t j = 0; j < 4; ++j) keep.set({1, j}, 0);
  Tensor y = scaled_dot_product_attention(q, k, v, keep);
  EXPECT_TRUE(std::isnan(y.at({0, 1, 0})));
  EXPECT_FALSE(std::isnan(y.at({0, 0, 0})));
  EXPECT_FALSE(std::isnan(y.at({0, 2, 1})));
}

// Dropout on the probabilities: the gradient with a fixed mask (same seed each evaluation) against central
// differences in float64, and the weights show the dropped entries.
TEST(Attention, DropoutGradcheckWithFixedMask) {
  const double p = 0.3, eps = 1e-6;
  Generator g0(4);
  Tensor q = randn({2, 3, 4}, &g0, DType::Float64), k = randn({2, 5, 4}, &g0, DType::Float64);
  Tensor v = randn({2, 5, 3}, &g0, DType::Float64), gout = randn({2, 3, 3}, &g0, DType::Float64);
  auto run = [&](const Tensor& a, const Tensor& b, const Tensor& c) {
    Generator g(77);
    return scaled_dot_product_attention(a, b, c, Tensor(), p, false, &g);
  };
  std::vector<Tensor> in = {copy_as(q, DType::Float64).requires_grad_(),
                            copy_as(k, DType::Float64).requires_grad_(),
                            copy_as(v, DType::Float64).requires_grad_()};
  run(in[0], in[1], in[2]).backward(gout);
  auto gv = gout.to_double_vector();
  auto loss = [&](const std::vector<Tensor>& x) {
    auto o = run(x[0], x[1], x[2]).to_double_vector();
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * gv[i];
    return s;
  };
  for (size_t which = 0; which < 3; ++which) {
    auto an = in[which].grad().to_double_vector();
    for (int64_t i = 0; i < in[which].numel(); ++i) {
      std::vector<Tensor> plus = {q, k, v}, minus = {q, k, v};
      plus[which] = copy_as(plus[which], DType::Float64);
      minus[which] = copy_as(minus[which], DType::Float64);
      plus[which].data<double>()[i] += eps;
      minus[which].data<double>()[i] -= eps;
      double num = (loss(plus) - loss(minus)) / (2 * eps);
      EXPECT_NEAR(an[i], num, 1e-6 + 1e-5 * std::abs(num)) << "input " << which << " element " << i;
    }
  }
  Generator g(77);
  auto r = scaled_dot_product_attention_with_weights(q, k, v, Tensor(), p, false, &g);
  int dropped = 0;
  for (double w : r.weights.to_double_vector()) dropped += w == 0.0;
  EXPECT_GT(dropped, 0);
  expect_close(r.output, matmul(r.weights, v), 1e-12, "dropped output = weights @ v");
}

TEST(Attention, ErrorsNameShapes) {
  try {
    scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 6}), zeros({2, 5, 6}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("scaled_dot_product_attention"), std::string::npos);
    EXPECT_NE(m.find("(2, 3, 4)"), std::string::npos);
    EXPECT_NE(m.find("(2, 5, 6)"), std::string::npos);
  }
  EXPECT_THROW(scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 6, 4})),
               ShapeError);
  EXPECT_THROW(scaled_dot_product_attention(zeros({2, 3, 4}), zeros({3, 5, 4}), zeros({3, 5, 4})),
               ShapeError);
  EXPECT_THROW(
      scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 4}), zeros({4, 5})),
      ShapeError);
  EXPECT_THROW(scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 4}),
                                            zeros({3, 5}, DType::Int64)),
               DTypeError);
  EXPECT_THROW(
      scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}, DType::Float64), zeros({2, 5, 4})),
      DTypeError);
  EXPECT_THROW(
      scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 4}), Tensor(), 1.5),
      ValueError);
}
