#include "ember/nn/rnn.h"

#include <cmath>
#include <sstream>

#include "ember/nn/init.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"
#include "ember/ops/rnn.h"

namespace ember::nn {

namespace {

int64_t gate_count(RNNBase::Mode mode) {
  switch (mode) {
    case RNNBase::Mode::Lstm:
      return 4;
    case RNNBase::Mode::Gru:
      return 3;
    default:
      return 1;
  }
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

}  // namespace

Tensor last_state(const RNNOutput& out) {
  EMBER_CHECK(out.h_n.defined() && out.h_n.dim() == 3, ShapeError,
              "last_state: expected h_n of shape (num_layers*D, N, H), got ",
              out.h_n.defined() ? shape_str(out.h_n.shape()) : std::string("undefined"));
  const int64_t D = out.num_directions, LD = out.h_n.shape()[0];
  EMBER_CHECK((D == 1 || D == 2) && LD % D == 0 && LD > 0, ValueError, "last_state: h_n ", out.h_n.shape(),
              " does not hold ", D, " direction(s)");
  if (D == 1) return select(out.h_n, 0, LD - 1);
  return concat({select(out.h_n, 0, LD - 2), select(out.h_n, 0, LD - 1)}, 1);
}

RNNBase::RNNBase(const char* type_name, Mode mode, int64_t input_size, int64_t hidden_size,
                 int64_t num_layers, bool bias, double dropout, bool bidirectional, Generator* gen)
    : Module(type_name),
      mode_(mode),
      input_size_(input_size),
      hidden_size_(hidden_size),
      num_layers_(num_layers),
      bias_(bias),
      dropout_(dropout),
      bidirectional_(bidirectional) {
  EMBER_CHECK(input_size >= 0 && hidden_size > 0, ValueError, type_name,
              ": input_size must be non-negative and hidden_size positive, got input_size=", input_size,
              ", hidden_size=", hidden_size);
  EMBER_CHECK(num_layers >= 1, ValueError, type_name, ": num_layers must be at least 1, got ", num_layers);
  EMBER_CHECK(dropout >= 0.0 && dropout <= 1.0, ValueError, type_name, ": dropout must be in [0, 1], got ",
              dropout);
  const int64_t D = num_directions(), GH = gate_count(mode) * hidden_size;
  for (int64_t l = 0; l < num_layers; ++l) {
    const int64_t in = l == 0 ? input_size : hidden_size * D;
    for (int64_t d = 0; d < D; ++d) {
      const std::string sfx = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      w_ih_.push_back(register_parameter("weight_ih" + sfx, empty({GH, in})));
      w_hh_.push_back(register_parameter("weight_hh" + sfx, empty({GH, hidden_size})));
      b_ih_.push_back(register_parameter("bias_ih" + sfx, bias ? empty({GH}) : Tensor()));
      b_hh_.push_back(register_parameter("bias_hh" + sfx, bias ? empty({GH}) : Tensor()));
    }
  }
  reset_parameters(gen);
}

void RNNBase::reset_parameters(Generator* gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size_));
  for (auto& p : parameters()) init::uniform_(p, -bound, bound, gen);
}

RNNOutput RNNBase::forward_with_state(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  const bool lstm = mode_ == Mode::Lstm;
  const int64_t D = num_directions(), H = hidden_size_;
  check_input_shape(x, 3, 2, input_size_, "(N, T, " + std::to_string(input_size_) + ")");
  const int64_t N = x.shape()[0];
  const Shape state_shape{num_layers_ * D, N, H};
  auto check_state = [&](const Tensor& s, const char* what) {
    EMBER_CHECK(s.shape() == state_shape, ShapeError, describe(), ": expected ", what, " of shape ",
                state_shape, " (num_layers*num_directions, N, hidden_size), got ", s.shape());
    EMBER_CHECK(s.dtype() == x.dtype(), DTypeError, describe(), ": ", what, " is ", dtype_name(s.dtype()),
                " but the input is ", dtype_name(x.dtype()));
  };
  if (h0.defined()) check_state(h0, "h0");
  if (lstm) {
    EMBER_CHECK(h0.defined() == c0.defined(), ValueError, describe(),
                ": give both h0 and c0 or neither (zeros)");
    if (c0.defined()) check_state(c0, "c0");
  } else {
    EMBER_CHECK(!c0.defined(), ValueError, describe(), ": c0 is for LSTM only");
  }
  Tensor zero_state = h0.defined() ? Tensor() : zeros({N, H}, x.dtype());
  std::vector<Tensor> hs, cs;
  Tensor layer_in = x;
  for (int64_t l = 0; l < num_layers_; ++l) {
    std::vector<Tensor> outs;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t k = l * D + d;
      Tensor hk = h0.defined() ? select(h0, 0, k) : zero_state;
      const bool rev = d == 1;
      RnnLayerResult r;
      switch (mode_) {
        case Mode::Lstm:
          r = lstm_layer(layer_in, hk, c0.defined() ? select(c0, 0, k) : zero_state, w_ih_[k], w_hh_[k],
                         b_ih_[k], b_hh_[k], rev);
          break;
        case Mode::Gru:
          r = gru_layer(layer_in, hk, w_ih_[k], w_hh_[k], b_ih_[k], b_hh_[k], rev);
          break;
        case Mode::RnnTanh:
          r = rnn_tanh_layer(layer_in, hk, w_ih_[k], w_hh_[k], b_ih_[k], b_hh_[k], rev);
          break;
        case Mode::RnnRelu:
          r = rnn_relu_layer(layer_in, hk, w_ih_[k], w_hh_[k], b_ih_[k], b_hh_[k], rev);
          break;
      }
      outs.push_back(r.output);
      hs.push_back(r.h_n);
      if (lstm) cs.push_back(r.c_n);
    }
    layer_in = D == 1 ? outs[0] : concat(outs, 2);
    if (dropout_ > 0.0 && is_training() && l + 1 < num_layers_) layer_in = dropout(layer_in, dropout_, true);
  }
  RNNOutput out;
  out.output = layer_in;
  out.h_n = stack(hs, 0);
  if (lstm) out.c_n = stack(cs, 0);
  out.num_directions = D;
  return out;
}

Tensor RNNBase::forward(const Tensor& x) {
  return forward_with_state(x).output;
}

std::string RNNBase::extra_repr() const {
  std::string s = std::to_string(input_size_) + ", " + std::to_string(hidden_size_);
  if (mode_ == Mode::RnnRelu) s += ", nonlinearity=relu";
  if (num_layers_ != 1) s += ", num_layers=" + std::to_string(num_layers_);
  if (!bias_) s += ", bias=false";
  if (dropout_ != 0.0) s += ", dropout=" + std::to_string(dropout_);
  if (bidirectional_) s += ", bidirectional=true";
  return s + ", batch_first=true";
}

LSTM::LSTM(const LSTMOptions& o, Generator* gen)
    : RNNBase("LSTM", Mode::Lstm, o.input_size(), o.hidden_size(), o.num_layers(), o.bias(), o.dropout(),
              o.bidirectional(), gen) {}

GRU::GRU(const GRUOptions& o, Generator* gen)
    : RNNBase("GRU", Mode::Gru, o.input_size(), o.hidden_size(), o.num_layers(), o.bias(), o.dropout(),
              o.bidirectional(), gen) {}

namespace {
RNNBase::Mode rnn_mode(const RNNOptions& o) {
  EMBER_CHECK(o.nonlinearity() == "tanh" || o.nonlinearity() == "relu", ValueError,
              "RNN: nonlinearity must be \"tanh\" or \"relu\", got \"", o.nonlinearity(), "\"");
  return o.nonlinearity() == "tanh" ? RNNBase::Mode::RnnTanh : RNNBase::Mode::RnnRelu;
}
}  // namespace

RNN::RNN(const RNNOptions& o, Generator* gen)
    : RNNBase("RNN", rnn_mode(o), o.input_size(), o.hidden_size(), o.num_layers(), o.bias(), o.dropout(),
              o.bidirectional(), gen) {}

}  // namespace ember::nn
