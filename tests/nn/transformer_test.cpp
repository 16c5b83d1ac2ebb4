// Transformer layers and stacks against PyTorch 1.13 fixtures (tests/fixtures/nn/attention.json): post-norm
// and pre-norm encoder layers, decoder layers with memory and a causal target mask, a 2-layer encoder with a
// final norm; plus names, positional encodings, options and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "attention_fixture.h"
#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;
namespace af = attn_fixture;

namespace {
Tensor mask_or_none(const af::Inputs& m, const std::string& k) {
  return m.count(k) ? m.at(k) : Tensor();
}
const auto kEncoderCall = [](nn::Module& mod, const af::Inputs& x, const af::Inputs& k) {
  return static_cast<nn::TransformerEncoderLayer&>(mod).forward(x.at("src"), mask_or_none(k, "src_mask"),
                                                                mask_or_none(k, "src_key_padding_mask"));
};
const auto kDecoderCall = [](nn::Module& mod, const af::Inputs& x, const af::Inputs& k) {
  return static_cast<nn::TransformerDecoderLayer&>(mod).forward(
      x.at("tgt"), x.at("memory"), mask_or_none(k, "tgt_mask"), Tensor(), Tensor(),
      mask_or_none(k, "memory_key_padding_mask"));
};
}  // namespace

TEST(TransformerEncoderLayer, PostNormMatchesPyTorch) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    nn::TransformerEncoderLayer m(
        nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0).dtype(dt));
    af::check(m, "encoder_layer_post_norm", kEncoderCall, dt);
  }
}

TEST(TransformerEncoderLayer, PreNormGeluMatchesPyTorch) {
  nn::TransformerEncoderLayer m(
      nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0).activation("gelu").norm_first(
          true));
  af::check(m, "encoder_layer_pre_norm_gelu", kEncoderCall);
}

TEST(TransformerDecoderLayer, PostNormWithMemoryAndCausalMaskMatchesPyTorch) {
  nn::TransformerDecoderLayer m(nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(16).dropout(0));
  af::check(m, "decoder_layer_post_norm", kDecoderCall);
}

TEST(TransformerDecoderLayer, PreNormMatchesPyTorch) {
  nn::TransformerDecoderLayer m(
      nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(16).dropout(0).norm_first(true));
  af::check(m, "decoder_layer_pre_norm", kDecoderCall);
}

TEST(TransformerEncoder, TwoLayersWithFinalNormMatchPyTorch) {
  nn::TransformerEncoder m(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0), 2,
                           std::make_shared<nn::LayerNorm>(nn::LayerNormOptions({8})));
  af::check(m, "encoder_stack_final_norm", [](nn::Module& mod, const af::Inputs& x, const af::Inputs& k) {
    return static_cast<nn::TransformerEncoder&>(mod).forward(x.at("src"), Tensor(),
                                                             k.at("src_key_padding_mask"));
  });
}

TEST(TransformerEncoder, LayersStartEqualLikePyTorchClones) {
  nn::TransformerEncoder m(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16), 3);
  auto sd = m.state_dict();
  EXPECT_TRUE(sd.contains("layers.2.self_attn.in_proj_weight"));
  EXPECT_FALSE(sd.contains("norm.weight"));
  EXPECT_EQ(sd.at("layers.0.linear1.weight").to_double_vector(),
            sd.at("layers.2.linear1.weight").to_double_vector());
  // Equal values, separate tensors.
  EXPECT_FALSE(sd.at("layers.0.linear1.weight").storage() == sd.at("layers.1.linear1.weight").storage());
}

TEST(TransformerDecoder, StackRunsAndNamesMatch) {
  Generator g(3);
  nn::TransformerDecoder m(nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(16).dropout(0), 2,
                           std::make_shared<nn::LayerNorm>(nn::LayerNormOptions({8})), &g);
  auto keys = m.state_dict().keys();
  EXPECT_EQ(keys.front(), "layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(keys.back(), "norm.bias");
  EXPECT_EQ(keys.size(), 2 * 18 + 2u);
  Tensor tgt = randn({2, 4, 8}, &g).requires_grad_(), mem = randn({2, 5, 8}, &g).requires_grad_();
  Tensor y = m.forward(tgt, mem, nn::causal_mask(4));
  EXPECT_EQ(y.shape(), (Shape{2, 4, 8}));
  sum(y * y).backward();
  EXPECT_TRUE(mem.grad().defined());
  // Causality: changing the last target step leaves earlier outputs unchanged.
  Tensor tgt2 = copy_as(tgt, DType::Float32);
  for (int64_t c = 0; c < 8; ++c) tgt2.set({0, 3, c}, 5.0);
  Tensor y2 = m.forward(tgt2, mem.detach(), nn::causal_mask(4));
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t c = 0; c < 8; ++c) EXPECT_NEAR(y.at({0, t, c}), y2.at({0, t, c}), 1e-5);
}

TEST(Transformer, CausalMaskValues) {
  Tensor m = nn::causal_mask(3);
  EXPECT_EQ(m.at({0, 0}), 0.0);
  EXPECT_EQ(m.at({2, 1}), 0.0);
  EXPECT_TRUE(std::isinf(m.at({0, 1})) && m.at({0, 1}) < 0);
  EXPECT_TRUE(std::isinf(m.at({1, 2})));
}

TEST(PositionalEncoding, SinusoidTableNotInStateDict) {
  nn::PositionalEncoding pe(6, 0.0, 50);
  EXPECT_TRUE(pe.state_dict().empty());
  const Tensor& t = pe.table();
  EXPECT_EQ(t.shape(), (Shape{50, 6}));
  for (int64_t pos : {0, 1, 7, 49})
    for (int64_t i = 0; i < 3; ++i) {
      const double ang = pos * std::pow(10000.0, -2.0 * i / 6.0);
      EXPECT_NEAR(t.at({pos, 2 * i}), std::sin(ang), 1e-6);
      EXPECT_NEAR(t.at({pos, 2 * i + 1}), std::cos(ang), 1e-6);
    }
  Tensor x = randn({2, 4, 6});
  Tensor y = pe.forward(x);
  EXPECT_NEAR(y.at({1, 3, 2}), x.at({1, 3, 2}) + t.at({3, 2}), 1e-6);
  EXPECT_THROW(pe.forward(zeros({2, 51, 6})), ShapeError);
  EXPECT_THROW(pe.forward(zeros({2, 4, 5})), ShapeError);
  nn::PositionalEncoding odd(5, 0.0, 4);
  EXPECT_NEAR(odd.table().at({2, 4}), std::sin(2 * std::pow(10000.0, -4.0 / 5.0)), 1e-6);
}

TEST(LearnedPositionalEncoding, AddsTrainedRows) {
  nn::LearnedPositionalEncoding pe(10, 4);
  EXPECT_EQ(pe.state_dict().keys(), (std::vector<std::string>{"weight"}));
  Tensor x = randn({2, 3, 4});
  Tensor y = pe.forward(x);
  EXPECT_NEAR(y.at({1, 2, 3}), x.at({1, 2, 3}) + pe.weight.at({2, 3}), 1e-6);
  sum(y).backward();
  EXPECT_EQ(pe.weight.grad().at({2, 0}), 2.0);
  EXPECT_EQ(pe.weight.grad().at({5, 0}), 0.0);
  EXPECT_THROW(pe.forward(zeros({1, 11, 4})), ShapeError);
}

TEST(TransformerEncoderLayer, ErrorsNameTheLayer) {
  EXPECT_THROW(nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(8, 3)), ValueError);
  EXPECT_THROW(nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(8, 2).activation("tanh")),
               ValueError);
  auto enc = std::make_shared<nn::TransformerEncoder>(
      nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16), 2);
  try {
    enc->forward(zeros({2, 3, 6}));
    FAIL() << "no ShapeError";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("TransformerEncoderLayer 'layers.0'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 3, 6)"), std::string::npos) << msg;
  }
}

// Dropout in training mode changes the output and eval() turns it off.
TEST(TransformerEncoderLayer, DropoutOnlyWhileTraining) {
  Generator g(9);
  nn::TransformerEncoderLayer m(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.5),
                                &g);
  Tensor x = randn({2, 5, 8}, &g);
  m.eval();
  auto a = m.forward(x).to_double_vector(), b = m.forward(x).to_double_vector();
  EXPECT_EQ(a, b);
  m.train();
  auto c = m.forward(x).to_double_vector();
  EXPECT_NE(a, c);
}
