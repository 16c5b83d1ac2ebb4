// nn::LSTM / GRU / RNN against torch.nn (tests/fixtures/nn/rnn.json, made by make_rnn_fixtures.py): outputs,
// final states and every gradient with PyTorch's weights loaded by state_dict name; plus last_state, dropout
// between layers, initialisation, error messages, and nn::Embedding.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;
using nlohmann::json;

namespace {

const json& rnn_fixtures() {
  static json doc = [] {
    std::ifstream in(std::string(EMBER_FIXTURE_DIR) + "/nn/rnn.json");
    return json::parse(in);
  }();
  return doc.at("cases");
}

Tensor load(const json& j, DType dt = DType::Float32) {
  Tensor t =
      from_vector(j.at("data").get<std::vector<double>>(), Shape(j.at("shape").get<std::vector<int64_t>>()));
  return copy_as(t, dt);
}

void expect_close(const Tensor& got, const json& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << ": undefined";
  ASSERT_EQ(got.shape(), Shape(want.at("shape").get<std::vector<int64_t>>())) << what;
  auto g = got.to_double_vector();
  auto w = want.at("data").get<std::vector<double>>();
  int bad = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (std::abs(g[i] - w[i]) > 1e-5 + 1e-4 * std::abs(w[i]) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: " << g[i] << ", PyTorch gives " << w[i];
}

std::shared_ptr<nn::RNNBase> make_module(const json& c) {
  const json& o = c.at("options");
  const int64_t in = o.at("input_size"), h = o.at("hidden_size"), layers = o.at("num_layers");
  const bool bidir = o.at("bidirectional"), bias = o.at("bias");
  const std::string kind = c.at("kind");
  if (kind == "LSTM")
    return std::make_shared<nn::LSTM>(
        nn::LSTMOptions(in, h).num_layers(layers).bidirectional(bidir).bias(bias));
  if (kind == "GRU")
    return std::make_shared<nn::GRU>(
        nn::GRUOptions(in, h).num_layers(layers).bidirectional(bidir).bias(bias));
  return std::make_shared<nn::RNN>(
      nn::RNNOptions(in, h).num_layers(layers).bidirectional(bidir).bias(bias).nonlinearity(
          o.at("nonlinearity").get<std::string>()));
}

}  // namespace

TEST(RnnModules, MatchPyTorch) {
  ASSERT_GE(rnn_fixtures().size(), 6u);
  for (const json& c : rnn_fixtures()) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    auto m = make_module(c);
    nn::StateDict sd;
    for (auto& [k, v] : c.at("params").items()) sd.insert(k, load(v));
    m->load_state_dict(sd);  // strict: names and shapes must be PyTorch's
    Tensor x = load(c.at("x")).requires_grad_();
    Tensor h0 = c.contains("h0") ? load(c.at("h0")).requires_grad_() : Tensor();
    Tensor c0 = c.contains("c0") ? load(c.at("c0")).requires_grad_() : Tensor();
    nn::RNNOutput r = m->forward_with_state(x, h0, c0);
    expect_close(r.output, c.at("output"), name + " output");
    expect_close(r.h_n, c.at("h_n"), name + " h_n");
    Tensor loss = add(sum(mul(r.output, load(c.at("R")))), sum(mul(r.h_n, load(c.at("S")))));
    if (c.contains("c_n")) {
      expect_close(r.c_n, c.at("c_n"), name + " c_n");
      loss = add(loss, sum(mul(r.c_n, load(c.at("Q")))));
    } else {
      EXPECT_FALSE(r.c_n.defined());
    }
    loss.backward();
    expect_close(x.grad(), c.at("grad_x"), name + " grad x");
    if (h0.defined()) expect_close(h0.grad(), c.at("grad_h0"), name + " grad h0");
    if (c0.defined()) expect_close(c0.grad(), c.at("grad_c0"), name + " grad c0");
    auto params = m->named_parameters();
    EXPECT_EQ(params.size(), c.at("grads").size());
    for (auto& [k, p] : params) expect_close(p.grad(), c.at("grads").at(k), name + " grad " + k);
  }
}

TEST(RnnModules, ParameterNamesAndShapesArePyTorchs) {
  nn::LSTM lstm(nn::LSTMOptions(3, 5).num_layers(2).bidirectional(true));
  std::vector<std::string> names;
  for (auto& [k, p] : lstm.named_parameters()) names.push_back(k);
  std::vector<std::string> want;
  for (std::string l : {"0", "1"})
    for (std::string d : {"", "_reverse"})
      for (std::string p : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) want.push_back(p + "_l" + l + d);
  EXPECT_EQ(names, want);
  EXPECT_EQ(lstm.weight_ih(0).shape(), (Shape{20, 3}));
  EXPECT_EQ(lstm.weight_ih(1, 1).shape(), (Shape{20, 10}));
  nn::GRU gru(nn::GRUOptions(3, 5).bias(false));
  EXPECT_EQ(gru.named_parameters().size(), 2u);
  EXPECT_EQ(gru.weight_hh(0).shape(), (Shape{15, 5}));
}

TEST(RnnModules, DefaultInitIsUniformWithinOneOverSqrtHidden) {
  manual_seed(0);
  nn::GRU gru(nn::GRUOptions(8, 16).num_layers(2));
  const double bound = 1.0 / 4.0;
  double mx = 0, sumsq = 0;
  int64_t n = 0;
  for (auto& p : gru.parameters())
    for (double v : p.to_double_vector()) {
      mx = std::max(mx, std::abs(v));
      sumsq += v * v;
      ++n;
    }
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.95 * bound);
  EXPECT_NEAR(std::sqrt(sumsq / n), bound / std::sqrt(3.0), 0.01);  // the std of U(-b, b)
}

TEST(RnnModules, LastStateIsFinalStepOfEachDirection) {
  manual_seed(1);
  const int64_t H = 3, T = 5;
  Tensor x = randn({2, T, 4});
  nn::GRU uni(nn::GRUOptions(4, H).num_layers(2));
  nn::RNNOutput r = uni.forward_with_state(x);
  EXPECT_EQ(r.h_n.shape(), (Shape{2, 2, H}));
  EXPECT_EQ(nn::last_state(r).to_vector<float>(), select(r.output, 1, T - 1).to_vector<float>());
  nn::LSTM bi(nn::LSTMOptions(4, H).bidirectional(true));
  nn::RNNOutput b = bi.forward_with_state(x);
  Tensor last = bi.last_state(b);
  EXPECT_EQ(last.shape(), (Shape{2, 2 * H}));
  Tensor want =
      concat({slice(select(b.output, 1, T - 1), 1, 0, H), slice(select(b.output, 1, 0), 1, H, 2 * H)}, 1);
  EXPECT_EQ(last.to_vector<float>(), want.to_vector<float>());
  EXPECT_EQ(bi.forward(x).shape(), (Shape{2, T, 2 * H}));
}

TEST(RnnModules, DropoutBetweenLayersOnlyInTraining) {
  manual_seed(2);
  Tensor x = randn({3, 6, 4});
  nn::LSTM with(nn::LSTMOptions(4, 8).num_layers(2).dropout(0.5));
  nn::LSTM without(nn::LSTMOptions(4, 8).num_layers(2));
  without.load_state_dict(with.state_dict());
  with.eval();
  EXPECT_EQ(with.forward(x).to_vector<float>(), without.forward(x).to_vector<float>());
  with.train();
  EXPECT_NE(with.forward(x).to_vector<float>(), without.forward(x).to_vector<float>());
  // The first layer is not followed by dropout in a one-layer module.
  nn::GRU one(nn::GRUOptions(4, 8).dropout(0.5));
  EXPECT_EQ(one.forward(x).to_vector<float>(), one.forward(x).to_vector<float>());
}

TEST(RnnModules, ErrorsNameLayerAndShapes) {
  auto seq = std::make_shared<nn::Sequential>(std::make_shared<nn::LSTM>(4, 3));
  try {
    seq->forward(randn({2, 5, 6}));
    FAIL() << "no ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("LSTM '0'"), std::string::npos) << m;
    EXPECT_NE(m.find("(N, T, 4)"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 5, 6)"), std::string::npos) << m;
  }
  nn::GRU gru(nn::GRUOptions(4, 3).num_layers(2));
  try {
    gru.forward_with_state(randn({2, 5, 4}), zeros({1, 2, 3}));
    FAIL() << "no ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("GRU"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(1, 2, 3)"), std::string::npos) << m;
  }
  nn::LSTM lstm(4, 3);
  EXPECT_THROW(lstm.forward_with_state(randn({2, 5, 4}), zeros({1, 2, 3})), ValueError);  // c0 missing
  EXPECT_THROW(lstm.forward(randn({5, 4})), ShapeError);
  EXPECT_THROW(nn::RNN(nn::RNNOptions(4, 3).nonlinearity("sigmoid")), ValueError);
  EXPECT_THROW(nn::LSTM(nn::LSTMOptions(4, 3).num_layers(0)), ValueError);
}

TEST(EmbeddingModule, InitLookupAndPaddingRow) {
  manual_seed(3);
  nn::Embedding emb(nn::EmbeddingOptions(200, 16).padding_idx(-1));  // row 199
  EXPECT_EQ(emb.weight.shape(), (Shape{200, 16}));
  EXPECT_EQ(emb.named_parameters().at(0).first, "weight");
  auto w = emb.weight.to_vector<float>();
  double s = 0, ss = 0;
  for (int64_t i = 0; i < 199 * 16; ++i) s += w[i], ss += w[i] * w[i];
  const double n = 199 * 16;
  EXPECT_NEAR(s / n, 0.0, 0.06);
  EXPECT_NEAR(std::sqrt(ss / n - (s / n) * (s / n)), 1.0, 0.05);
  for (int64_t j = 0; j < 16; ++j) EXPECT_EQ(w[199 * 16 + j], 0.0f);
  Tensor idx = from_vector(std::vector<int64_t>{3, 199, 3, 0, 7, 199}, {2, 3});
  Tensor y = emb.forward(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 16}));
  for (int64_t j = 0; j < 16; ++j) {
    EXPECT_EQ(y.at({0, 0, j}), w[3 * 16 + j]);
    EXPECT_EQ(y.at({1, 1, j}), w[7 * 16 + j]);
    EXPECT_EQ(y.at({0, 1, j}), 0.0);
  }
  sum(y).backward();
  Tensor g = emb.weight.grad();
  EXPECT_EQ(g.at({3, 0}), 2.0);
  EXPECT_EQ(g.at({0, 5}), 1.0);
  EXPECT_EQ(g.at({199, 0}), 0.0);
  EXPECT_EQ(g.at({1, 0}), 0.0);
  EXPECT_THROW(emb.forward(zeros({2, 3})), DTypeError);
  EXPECT_THROW(nn::Embedding(nn::EmbeddingOptions(5, 2).padding_idx(5)), IndexError);
  EXPECT_NE(emb.to_string().find("padding_idx=199"), std::string::npos);
}

// An Embedding feeding an LSTM, trained end to end: the embedding rows used get gradients through BPTT.
TEST(EmbeddingModule, FeedsRecurrentLayer) {
  manual_seed(4);
  nn::Embedding emb(10, 4);
  nn::LSTM lstm(4, 3);
  Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 1, 5, 6}, {2, 3});
  Tensor out = lstm.forward(emb.forward(ids));
  sum(out).backward();
  Tensor g = emb.weight.grad();
  double used = 0, unused = 0;
  for (int64_t j = 0; j < 4; ++j) used += std::abs(g.at({1, j})), unused += std::abs(g.at({9, j}));
  EXPECT_GT(used, 0.0);
  EXPECT_EQ(unused, 0.0);
}
