// LayerNorm and MultiheadAttention against PyTorch 1.13 fixtures (tests/fixtures/nn/attention.json), a
// float64 finite-difference check of a tiny MultiheadAttention, initialisation, and shape errors naming the
// layer.
#include <gtest/gtest.h>

#include "attention_fixture.h"
#include "ember/nn/nn.h"
#include "ember/ops/conv.h"

using namespace ember;
namespace nn = ember::nn;
namespace af = attn_fixture;

TEST(MultiheadAttention, SelfAttentionPaddingAndCausalMatchPyTorch) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    nn::MultiheadAttention m(nn::MultiheadAttentionOptions(8, 2).dtype(dt));
    Tensor weights;
    af::check(
        m, "mha_self_padding_causal",
        [&](nn::Module& mod, const af::Inputs& x, const af::Inputs& k) {
          auto r = static_cast<nn::MultiheadAttention&>(mod).forward(
              x.at("x"), x.at("x"), x.at("x"), k.at("key_padding_mask"), true, k.at("attn_mask"));
          weights = r.weights;
          return r.output;
        },
        dt);
    af::expect_close(weights, af::get("mha_self_padding_causal").at("weights"), 1e-5, "averaged weights");
  }
}

TEST(MultiheadAttention, CrossAttentionBoolMasksMatchPyTorch) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(8, 2));
  Tensor weights;
  af::check(m, "mha_cross_bool_masks", [&](nn::Module& mod, const af::Inputs& x, const af::Inputs& k) {
    auto r = static_cast<nn::MultiheadAttention&>(mod).forward(
        x.at("q"), x.at("kv"), x.at("kv"), k.at("key_padding_mask"), true, k.at("attn_mask"));
    weights = r.weights;
    return r.output;
  });
  af::expect_close(weights, af::get("mha_cross_bool_masks").at("weights"), 1e-5, "averaged weights");
}

TEST(MultiheadAttention, SeparateQueryKeyValueNoBiasMatchPyTorch) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(8, 4).bias(false));
  af::check(m, "mha_qkv_no_bias", [&](nn::Module& mod, const af::Inputs& x, const af::Inputs&) {
    auto r =
        static_cast<nn::MultiheadAttention&>(mod).forward(x.at("q"), x.at("k"), x.at("v"), Tensor(), false);
    EXPECT_FALSE(r.weights.defined());
    return r.output;
  });
}

// Every parameter and input gradient of a tiny MultiheadAttention (masks, two heads) against central
// differences in float64.
TEST(MultiheadAttention, GradcheckFloat64) {
  Generator g(5);
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(4, 2).dtype(DType::Float64), &g);
  nn::init::normal_(m.in_proj_bias, 0, 0.5, &g);
  nn::init::normal_(m.out_proj->bias, 0, 0.5, &g);
  Tensor q = randn({2, 3, 4}, &g, DType::Float64).requires_grad_();
  Tensor kv = randn({2, 4, 4}, &g, DType::Float64).requires_grad_();
  Tensor pad = zeros({2, 4}, DType::Bool);
  pad.set({1, 3}, 1);
  Tensor am = randn({3, 4}, &g, DType::Float64);
  Tensor gout = randn({2, 3, 4}, &g, DType::Float64);
  auto loss = [&]() {
    Tensor y = m.forward(q, kv, kv, pad, false, am).output;
    return sum(y * gout);
  };
  m.zero_grad();
  loss().backward();
  std::vector<std::pair<std::string, Tensor>> wrt = m.named_parameters();
  wrt.emplace_back("query", q);
  wrt.emplace_back("key_value", kv);
  const double eps = 1e-6;
  for (auto& [name, t] : wrt) {
    auto an = t.grad().to_double_vector();
    double* p = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double old = p[i];
      p[i] = old + eps;
      double lp = loss().item();
      p[i] = old - eps;
      double lm = loss().item();
      p[i] = old;
      double num = (lp - lm) / (2 * eps);
      EXPECT_NEAR(an[i], num, 1e-6 + 1e-5 * std::abs(num)) << name << "[" << i << "]";
    }
  }
}

TEST(MultiheadAttention, InitialisationAndNames) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(16, 4));
  EXPECT_EQ(m.state_dict().keys(),
            (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(m.in_proj_weight.shape(), (Shape{48, 16}));
  // xavier_uniform_ bound sqrt(6 / (16 + 48)), zero biases.
  const double bound = std::sqrt(6.0 / 64.0);
  double mx = 0;
  for (double v : m.in_proj_weight.to_double_vector()) mx = std::max(mx, std::abs(v));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.8 * bound);
  for (double v : m.in_proj_bias.to_double_vector()) EXPECT_EQ(v, 0.0);
  for (double v : m.out_proj->bias.to_double_vector()) EXPECT_EQ(v, 0.0);
  // forward(x) is self-attention without masks.
  Tensor x = randn({2, 3, 16});
  auto a = m.forward(x).to_double_vector(), b = m.forward(x, x, x).output.to_double_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(MultiheadAttention, ShapeErrorsNameTheLayer) {
  EXPECT_THROW(nn::MultiheadAttention(nn::MultiheadAttentionOptions(10, 4)), ValueError);
  EXPECT_THROW(nn::MultiheadAttention(nn::MultiheadAttentionOptions(8, 0)), ValueError);
  auto net = std::make_shared<nn::Sequential>(
      std::make_shared<nn::MultiheadAttention>(nn::MultiheadAttentionOptions(8, 2)));
  try {
    net->forward(zeros({2, 3, 6}));
    FAIL() << "no ShapeError";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("MultiheadAttention '0'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 3, 6)"), std::string::npos) << msg;
  }
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(8, 2));
  Tensor q = zeros({2, 3, 8}), kv = zeros({2, 5, 8});
  EXPECT_THROW(m.forward(q, kv, zeros({2, 4, 8})), ShapeError);
  EXPECT_THROW(m.forward(q, kv, kv, zeros({2, 4}, DType::Bool)), ShapeError);
  EXPECT_THROW(m.forward(q, kv, kv, Tensor(), true, zeros({3, 4})), ShapeError);
  EXPECT_NO_THROW(m.forward(q, kv, kv, Tensor(), true, zeros({4, 3, 5})));
}

// A batch whose keys are all padded gives NaN for that batch only (PyTorch 1.13 does the same).
TEST(MultiheadAttention, AllPaddedBatchIsNaN) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(4, 2));
  Tensor x = randn({2, 3, 4});
  Tensor pad = zeros({2, 3}, DType::Bool);
  for (int64_t j = 0; j < 3; ++j) pad.set({1, j}, 1);
  Tensor y = m.forward(x, x, x, pad, false).output;
  EXPECT_FALSE(std::isnan(y.at({0, 0, 0})));
  EXPECT_TRUE(std::isnan(y.at({1, 0, 0})));
}

TEST(LayerNormModule, MatchesOpAndChecksShape) {
  auto ln = std::make_shared<nn::LayerNorm>(nn::LayerNormOptions({4}).eps(1e-6));
  EXPECT_EQ(ln->state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  nn::init::normal_(ln->weight);
  nn::init::normal_(ln->bias);
  Tensor x = randn({3, 2, 4});
  auto y = ln->forward(x).to_double_vector();
  auto r = layer_norm(x, {4}, ln->weight, ln->bias, 1e-6).to_double_vector();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], r[i]);
  nn::LayerNorm plain(nn::LayerNormOptions({2, 4}).elementwise_affine(false));
  EXPECT_TRUE(plain.state_dict().empty());
  EXPECT_EQ(plain.forward(x).shape(), (Shape{3, 2, 4}));
  auto net = std::make_shared<nn::Sequential>(ln);
  try {
    net->forward(zeros({3, 5}));
    FAIL() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("LayerNorm '0'"), std::string::npos) << e.what();
  }
}
