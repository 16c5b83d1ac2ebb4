// Recurrent layer ops: op-table rows (PyTorch fixtures + float64 finite differences), the fast kernels
// against the reference ones, multi-result gradients and error messages.
#include "ember/kernels/rnn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ember/autograd/node.h"
#include "ember/core/random.h"
#include "ember/ops/rnn.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

namespace {

Tensor flat_cat(const RnnLayerResult& r) {
  std::vector<Tensor> parts{flatten(r.output), flatten(r.h_n)};
  if (r.c_n.defined()) parts.push_back(flatten(r.c_n));
  return concat(parts);
}

Tensor opt(const Inputs& x, size_t i) {
  return i < x.size() ? x[i] : Tensor();
}

Tensor lstm_row(const Inputs& x, bool reverse) {
  return flat_cat(lstm_layer(x[0], x[1], x[2], x[3], x[4], opt(x, 5), opt(x, 6), reverse));
}

template <RnnLayerResult (*F)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                              const Tensor&, bool)>
Tensor simple_row(const Inputs& x, bool reverse) {
  return flat_cat(F(x[0], x[1], x[2], x[3], opt(x, 4), opt(x, 5), reverse));
}

}  // namespace

static test::OpCaseRegistrar rows({
    {"lstm_layer_basic", "lstm_layer", [](const Inputs& x) { return lstm_row(x, false); }},
    {"lstm_layer_reverse", "lstm_layer", [](const Inputs& x) { return lstm_row(x, true); }},
    {"lstm_layer_no_bias", "lstm_layer", [](const Inputs& x) { return lstm_row(x, false); }},
    {"gru_layer_basic", "gru_layer", [](const Inputs& x) { return simple_row<gru_layer>(x, false); }},
    {"gru_layer_reverse", "gru_layer", [](const Inputs& x) { return simple_row<gru_layer>(x, true); }},
    {"gru_layer_no_bias", "gru_layer", [](const Inputs& x) { return simple_row<gru_layer>(x, false); }},
    {"rnn_tanh_layer_basic", "rnn_tanh_layer",
     [](const Inputs& x) { return simple_row<rnn_tanh_layer>(x, false); }},
    {"rnn_tanh_layer_reverse", "rnn_tanh_layer",
     [](const Inputs& x) { return simple_row<rnn_tanh_layer>(x, true); }},
    {"rnn_relu_layer_basic", "rnn_relu_layer",
     [](const Inputs& x) { return simple_row<rnn_relu_layer>(x, false); }},
});

namespace {

using kernels::RnnMode;

std::vector<float> random_vec(int64_t n, double scale, Generator& g) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<float>(scale * g.normal());
  return v;
}

void expect_near_vec(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < a.size(); ++i)
    // Weight gradients sum over every time step and batch row in float32, in a different order in the fast
    // and reference kernels (and differently again at -O1 under the sanitizers): allow that rounding.
    if (std::abs(a[i] - b[i]) > 1e-4 + 5e-4 * std::abs(b[i]) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: fast " << a[i] << " vs ref " << b[i];
}

}  // namespace

// Sizes where the fast kernel's GEMMs and thread splits are exercised (N rows over two threads, odd sizes).
TEST(RnnKernels, FastMatchesReference) {
  const int64_t N = 41, T = 9, I = 13, H = 24;  // RNN rows split over two threads from N = 38
  for (RnnMode mode : {RnnMode::Lstm, RnnMode::Gru, RnnMode::RnnTanh, RnnMode::RnnRelu})
    for (bool reverse : {false, true}) {
      Generator gen(42);
      const int64_t GH = kernels::rnn_gate_count(mode) * H;
      const int64_t gs = N * T * kernels::rnn_gates_per_step(mode, H);
      const int64_t cs = N * T * kernels::rnn_cells_per_step(mode, H);
      auto x = random_vec(N * T * I, 1.0, gen), h0 = random_vec(N * H, 0.5, gen),
           c0 = random_vec(N * H, 0.5, gen);
      auto wih = random_vec(GH * I, 0.3, gen), whh = random_vec(GH * H, 0.3, gen);
      auto bih = random_vec(GH, 0.2, gen), bhh = random_vec(GH, 0.2, gen);
      auto dout = random_vec(N * T * H, 1.0, gen), dhn = random_vec(N * H, 1.0, gen),
           dcn = random_vec(N * H, 1.0, gen);
      kernels::RnnLayerArgs<float> a{mode,       N,          T,         I,         H,
                                     reverse,    x.data(),   h0.data(), c0.data(), wih.data(),
                                     whh.data(), bih.data(), bhh.data()};
      struct Result {
        std::vector<float> out, hn, cn, gates, cells, dx, dh0, dc0, dwih, dwhh, dbih, dbhh;
      };
      auto run = [&](bool fast) {
        Result r{std::vector<float>(N * T * H), std::vector<float>(N * H), std::vector<float>(N * H),
                 std::vector<float>(gs),        std::vector<float>(cs),    std::vector<float>(N * T * I),
                 std::vector<float>(N * H),     std::vector<float>(N * H), std::vector<float>(GH * I),
                 std::vector<float>(GH * H),    std::vector<float>(GH),    std::vector<float>(GH)};
        const bool lstm = mode == RnnMode::Lstm;
        if (fast) {
          kernels::rnn_layer_forward(a, r.out.data(), r.hn.data(), lstm ? r.cn.data() : nullptr,
                                     r.gates.data(), r.cells.data());
          kernels::rnn_layer_backward(a, r.out.data(), r.gates.data(), r.cells.data(), dout.data(),
                                      dhn.data(), lstm ? dcn.data() : nullptr, r.dx.data(), r.dh0.data(),
                                      lstm ? r.dc0.data() : nullptr, r.dwih.data(), r.dwhh.data(),
                                      r.dbih.data(), r.dbhh.data());
        } else {
          kernels::ref::rnn_layer_forward(a, r.out.data(), r.hn.data(), lstm ? r.cn.data() : nullptr,
                                          r.gates.data(), r.cells.data());
          kernels::ref::rnn_layer_backward(a, r.out.data(), r.gates.data(), r.cells.data(), dout.data(),
                                           dhn.data(), lstm ? dcn.data() : nullptr, r.dx.data(), r.dh0.data(),
                                           lstm ? r.dc0.data() : nullptr, r.dwih.data(), r.dwhh.data(),
                                           r.dbih.data(), r.dbhh.data());
        }
        return r;
      };
      Result f = run(true), r = run(false);
      std::string tag = "mode " + std::to_string(static_cast<int>(mode)) + (reverse ? " reverse " : " ");
      expect_near_vec(f.out, r.out, tag + "out");
      expect_near_vec(f.hn, r.hn, tag + "h_n");
      expect_near_vec(f.cn, r.cn, tag + "c_n");
      expect_near_vec(f.dx, r.dx, tag + "dx");
      expect_near_vec(f.dh0, r.dh0, tag + "dh0");
      expect_near_vec(f.dc0, r.dc0, tag + "dc0");
      expect_near_vec(f.dwih, r.dwih, tag + "dw_ih");
      expect_near_vec(f.dwhh, r.dwhh, tag + "dw_hh");
      expect_near_vec(f.dbih, r.dbih, tag + "db_ih");
      expect_near_vec(f.dbhh, r.dbhh, tag + "db_hh");
    }
}

// Gradients reaching the inputs from only one of the results (the others unused) match those through all.
TEST(RnnOps, GradientFromOneResultOnly) {
  manual_seed(3);
  Tensor x = randn({2, 4, 3}).requires_grad_();
  Tensor h0 = randn({2, 5}), c0 = randn({2, 5}).requires_grad_();
  Tensor wih = mul(randn({20, 3}), 0.3).detach().requires_grad_();
  Tensor whh = mul(randn({20, 5}), 0.3).detach().requires_grad_();
  // Only c_n: its gradient must reach c0 and x through the whole sequence.
  auto r = lstm_layer(x, h0, c0, wih, whh);
  sum(r.c_n).backward();
  ASSERT_TRUE(x.grad().defined());
  ASSERT_TRUE(c0.grad().defined());
  EXPECT_FALSE(h0.grad().defined());  // h0 does not require a gradient
  double gx = 0;
  for (double v : x.grad().to_double_vector()) gx += std::abs(v);
  EXPECT_GT(gx, 0.0);
  // The same through output[:, -1] for h_n of a forward GRU (they are the same values).
  Tensor x2 = x.detach().requires_grad_();
  Tensor w3 = mul(randn({15, 3}), 0.3).detach(), u3 = mul(randn({15, 5}), 0.3).detach();
  auto g1 = gru_layer(x2, h0, w3, u3);
  sum(g1.h_n).backward();
  Tensor ga = x2.grad();
  Tensor x3 = x.detach().requires_grad_();
  auto g2 = gru_layer(x3, h0, w3, u3);
  sum(select(g2.output, 1, 3)).backward();
  EXPECT_EQ(ga.to_vector<float>(), x3.grad().to_vector<float>());
}

TEST(RnnOps, NoGraphWithoutGradients) {
  Tensor x = randn({1, 2, 3}), h0 = zeros({1, 4});
  auto r = rnn_tanh_layer(x, h0, randn({4, 3}), randn({4, 4}));
  EXPECT_EQ(r.output.shape(), (Shape{1, 2, 4}));
  EXPECT_FALSE(r.output.grad_fn());
  EXPECT_FALSE(r.c_n.defined());
}

TEST(RnnOps, ZeroLengthSequenceKeepsInitialState) {
  Tensor x = zeros({2, 0, 3}), h0 = randn({2, 4}), c0 = randn({2, 4});
  auto r = lstm_layer(x, h0, c0, randn({16, 3}), randn({16, 4}));
  EXPECT_EQ(r.output.shape(), (Shape{2, 0, 4}));
  EXPECT_EQ(r.h_n.to_vector<float>(), h0.to_vector<float>());
  EXPECT_EQ(r.c_n.to_vector<float>(), c0.to_vector<float>());
}

TEST(RnnOps, ShapeErrorsNameOpAndShapes) {
  Tensor x = randn({2, 5, 3}), h0 = zeros({2, 4}), c0 = zeros({2, 4});
  auto expect_shape_error = [](auto f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no ShapeError for " << needle;
    } catch (const ShapeError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  expect_shape_error([&] { lstm_layer(x, h0, c0, randn({16, 2}), randn({16, 4})); }, "(16, 3)");
  expect_shape_error([&] { lstm_layer(x, h0, c0, randn({12, 3}), randn({12, 4})); }, "lstm_layer");
  expect_shape_error([&] { gru_layer(x, zeros({3, 4}), randn({12, 3}), randn({12, 4})); }, "h0");
  expect_shape_error([&] { gru_layer(randn({2, 3}), h0, randn({12, 3}), randn({12, 4})); }, "(2, 3)");
  expect_shape_error([&] { rnn_tanh_layer(x, h0, randn({4, 3}), randn({4, 4}), randn({5})); }, "b_ih");
  EXPECT_THROW(lstm_layer(x, h0, c0, randn({16, 3}), randn({16, 4}, nullptr, DType::Float64)), DTypeError);
}
