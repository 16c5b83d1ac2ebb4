// Recurrent layer ops: lstm_layer, gru_layer, rnn_tanh_layer, rnn_relu_layer. Each is one fused forward over
// the whole sequence and one hand-written BPTT backward (kernels/cpu/rnn.cpp). The op has up to three results
// (output, h_n, c_n) but one backward: like split (src/ops/index.cpp), one node holds the inputs' edges and
// produces a 0-d token; each result's node parks its incoming gradient in the shared node and passes a zero
// token on, so the engine runs the shared node once, after every result that received a gradient.
#include "ember/ops/rnn.h"

#include <memory>
#include <string>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/rnn.h"

namespace ember {

namespace {

using kernels::RnnMode;

enum Slot { kOutput = 0, kHn = 1, kCn = 2 };

struct RnnLayerBackward : autograd::Node {
  const char* op = "";
  RnnMode mode = RnnMode::Lstm;
  int64_t N = 0, T = 0, I = 0, H = 0;
  bool reverse = false, has_b_ih = false, has_b_hh = false;
  SavedTensor x, h0, c0, w_ih, w_hh, out;
  Tensor gates, cells;  // the forward's activations (op-internal, never seen by users)
  Tensor slots[3];      // incoming gradients of output, h_n, c_n
  const char* name() const override { return op; }

  std::vector<Tensor> apply(const Tensor& token) override {
    const bool lstm = mode == RnnMode::Lstm;
    const DType dt = token.dtype();
    const int64_t GH = kernels::rnn_gate_count(mode) * H;
    // next_edges follow the recorded inputs: x, h0, [c0], w_ih, w_hh, [b_ih], [b_hh].
    size_t e = 0;
    auto want = [&](bool present) {
      if (!present) return false;
      return next_edges[e++].fn != nullptr;
    };
    const bool want_x = want(true), want_h0 = want(true), want_c0 = want(lstm), want_wih = want(true),
               want_whh = want(true), want_bih = want(has_b_ih), want_bhh = want(has_b_hh);
    Tensor dx = want_x ? empty({N, T, I}, dt) : Tensor();
    Tensor dh0 = want_h0 ? empty({N, H}, dt) : Tensor();
    Tensor dc0 = want_c0 ? empty({N, H}, dt) : Tensor();
    Tensor dwih = want_wih ? empty({GH, I}, dt) : Tensor();
    Tensor dwhh = want_whh ? empty({GH, H}, dt) : Tensor();
    Tensor dbih = want_bih ? empty({GH}, dt) : Tensor();
    Tensor dbhh = want_bhh ? empty({GH}, dt) : Tensor();
    Tensor g[3];
    for (int k = 0; k < 3; ++k)
      if (slots[k].defined()) g[k] = contiguous_data(slots[k]);
    const Tensor& xs = x.get(this);
    const Tensor& h0s = h0.get(this);
    const Tensor& wih = w_ih.get(this);
    const Tensor& whh = w_hh.get(this);
    const Tensor& outs = out.get(this);
    const Tensor c0s = lstm ? c0.get(this) : Tensor();
    dispatch_floating(dt, op, [&](auto tag) {
      using TT = decltype(tag);
      auto p = [](const Tensor& t) { return t.defined() ? static_cast<TT*>(t.raw_data()) : nullptr; };
      kernels::RnnLayerArgs<TT> a{mode,   N,      T,      I,      H,       reverse, p(xs),
                                  p(h0s), p(c0s), p(wih), p(whh), nullptr, nullptr};
      kernels::rnn_layer_backward(a, p(outs), p(gates), p(cells), p(g[kOutput]), p(g[kHn]), p(g[kCn]), p(dx),
                                  p(dh0), p(dc0), p(dwih), p(dwhh), p(dbih), p(dbhh));
    });
    for (auto& s : slots) s = Tensor();
    std::vector<Tensor> grads{dx, dh0};
    if (lstm) grads.push_back(dc0);
    grads.push_back(dwih);
    grads.push_back(dwhh);
    if (has_b_ih) grads.push_back(dbih);
    if (has_b_hh) grads.push_back(dbhh);
    return grads;
  }
  void release_saved() override {
    x.reset();
    h0.reset();
    c0.reset();
    w_ih.reset();
    w_hh.reset();
    out.reset();
    gates = cells = Tensor();
    for (auto& s : slots) s = Tensor();
  }
};

struct RnnResultBackward : autograd::Node {
  std::shared_ptr<RnnLayerBackward> layer;
  int slot = 0;
  const char* name() const override { return layer ? layer->op : "rnn_layer"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    layer->slots[slot] = g;
    return {zeros(Shape{}, g.dtype())};
  }
  void release_saved() override { layer.reset(); }
};

void check_tensor(const Tensor& t, const char* op, const char* what, const Shape& expected, DType dt) {
  EMBER_CHECK(t.defined(), ValueError, op, ": ", what, " is undefined");
  EMBER_CHECK(t.shape() == expected, ShapeError, op, ": expected ", what, " of shape ", expected, ", got ",
              t.shape());
  EMBER_CHECK(t.dtype() == dt, DTypeError, op, ": ", what, " is ", dtype_name(t.dtype()), " but x is ",
              dtype_name(dt));
}

RnnLayerResult rnn_layer(RnnMode mode, const char* op, const Tensor& x, const Tensor& h0, const Tensor& c0,
                         const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                         bool reverse) {
  const bool lstm = mode == RnnMode::Lstm;
  const int64_t G = kernels::rnn_gate_count(mode);
  EMBER_CHECK(x.defined() && w_hh.defined() && w_ih.defined(), ValueError, op,
              ": x, w_ih and w_hh must be defined");
  EMBER_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError, op,
              ": expected a floating-point x, got ", dtype_name(x.dtype()));
  EMBER_CHECK(x.dim() == 3, ShapeError, op, ": expected x of shape (N, T, input_size), got ", x.shape());
  EMBER_CHECK(w_hh.dim() == 2 && w_hh.shape()[0] == G * w_hh.shape()[1], ShapeError, op,
              ": expected w_hh of shape (", G, "*H, H), got ", w_hh.shape());
  const int64_t N = x.shape()[0], T = x.shape()[1], I = x.shape()[2], H = w_hh.shape()[1];
  const DType dt = x.dtype();
  check_tensor(w_hh, op, "w_hh", {G * H, H}, dt);
  check_tensor(w_ih, op, "w_ih", {G * H, I}, dt);
  check_tensor(h0, op, "h0", {N, H}, dt);
  if (lstm) check_tensor(c0, op, "c0", {N, H}, dt);
  if (b_ih.defined()) check_tensor(b_ih, op, "b_ih", {G * H}, dt);
  if (b_hh.defined()) check_tensor(b_hh, op, "b_hh", {G * H}, dt);

  Tensor xc = contiguous_data(x), h0c = contiguous_data(h0), c0c = lstm ? contiguous_data(c0) : Tensor();
  Tensor wihc = contiguous_data(w_ih), whhc = contiguous_data(w_hh);
  Tensor bihc = b_ih.defined() ? contiguous_data(b_ih) : Tensor();
  Tensor bhhc = b_hh.defined() ? contiguous_data(b_hh) : Tensor();
  RnnLayerResult r;
  r.output = empty({N, T, H}, dt);
  r.h_n = empty({N, H}, dt);
  if (lstm) r.c_n = empty({N, H}, dt);
  Tensor gates = empty({N * T * kernels::rnn_gates_per_step(mode, H)}, dt);
  Tensor cells = empty({N * T * kernels::rnn_cells_per_step(mode, H)}, dt);
  dispatch_floating(dt, op, [&](auto tag) {
    using TT = decltype(tag);
    auto p = [](const Tensor& t) { return t.defined() ? static_cast<TT*>(t.raw_data()) : nullptr; };
    kernels::RnnLayerArgs<TT> a{mode,   N,      T,       I,       H,       reverse, p(xc),
                                p(h0c), p(c0c), p(wihc), p(whhc), p(bihc), p(bhhc)};
    kernels::rnn_layer_forward(a, p(r.output), p(r.h_n), p(r.c_n), p(gates), p(cells));
  });

  std::vector<Tensor> inputs{x, h0};
  if (lstm) inputs.push_back(c0);
  inputs.push_back(w_ih);
  inputs.push_back(w_hh);
  if (b_ih.defined()) inputs.push_back(b_ih);
  if (b_hh.defined()) inputs.push_back(b_hh);
  if (autograd::any_requires_grad(inputs)) {
    auto node = std::make_shared<RnnLayerBackward>();
    node->op = op;
    node->mode = mode;
    node->N = N, node->T = T, node->I = I, node->H = H;
    node->reverse = reverse;
    node->has_b_ih = b_ih.defined();
    node->has_b_hh = b_hh.defined();
    node->x = SavedTensor(xc);
    node->h0 = SavedTensor(h0c);
    if (lstm) node->c0 = SavedTensor(c0c);
    node->w_ih = SavedTensor(wihc);
    node->w_hh = SavedTensor(whhc);
    node->out = SavedTensor(r.output, /*is_output=*/true);
    node->gates = gates;
    node->cells = cells;
    Tensor token = zeros(Shape{}, dt);
    autograd::record(node, inputs, token);
    Tensor* results[3] = {&r.output, &r.h_n, lstm ? &r.c_n : nullptr};
    for (int k = 0; k < 3; ++k) {
      if (!results[k]) continue;
      auto piece = std::make_shared<RnnResultBackward>();
      piece->layer = node;
      piece->slot = k;
      autograd::record(piece, {&token}, *results[k]);
    }
  }
  return r;
}

}  // namespace

RnnLayerResult lstm_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                          const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  return rnn_layer(RnnMode::Lstm, "lstm_layer", x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse);
}

RnnLayerResult gru_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                         const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  return rnn_layer(RnnMode::Gru, "gru_layer", x, h0, Tensor(), w_ih, w_hh, b_ih, b_hh, reverse);
}

RnnLayerResult rnn_tanh_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  return rnn_layer(RnnMode::RnnTanh, "rnn_tanh_layer", x, h0, Tensor(), w_ih, w_hh, b_ih, b_hh, reverse);
}

RnnLayerResult rnn_relu_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  return rnn_layer(RnnMode::RnnRelu, "rnn_relu_layer", x, h0, Tensor(), w_ih, w_hh, b_ih, b_hh, reverse);
}

}  // namespace ember
