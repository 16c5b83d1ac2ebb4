// Recurrent layers like torch.nn.RNN / LSTM / GRU with batch_first=True: stacked layers, optional
// bidirectional, dropout between layers (training only), PyTorch's parameter names (weight_ih_l0,
// weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse) and layouts, so a PyTorch state_dict loads as is. Each
// layer and direction is one fused op (ember/ops/rnn.h). Input (N, T, input_size); output (N, T, D*H), D = 2
// when bidirectional; states (num_layers*D, N, H), layer-major, forward direction first (PyTorch's order).
//
//   auto lstm = std::make_shared<ember::nn::LSTM>(ember::nn::LSTMOptions(32,
//   64).num_layers(2).bidirectional(true)); ember::Tensor y = lstm->forward(x);                    // (N, T,
//   128) ember::nn::RNNOutput r = lstm->forward_with_state(x);  // r.output, r.h_n (4, N, 64), r.c_n
//   ember::Tensor last = ember::nn::last_state(r);         // (N, 128): what Keras returns without sequences
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/random.h"
#include "ember/nn/module.h"

namespace ember::nn {

// The options shared by RNN, LSTM and GRU; each has its own options type (named setters chain on it).
template <typename Derived>
class RecurrentOptions {
 public:
  RecurrentOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  Derived& num_layers(int64_t n) {
    num_layers_ = n;
    return self();
  }
  Derived& bias(bool on) {
    bias_ = on;
    return self();
  }
  // Dropout probability on the outputs of every layer but the last, in training mode.
  Derived& dropout(double p) {
    dropout_ = p;
    return self();
  }
  Derived& bidirectional(bool on) {
    bidirectional_ = on;
    return self();
  }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t num_layers() const { return num_layers_; }
  bool bias() const { return bias_; }
  double dropout() const { return dropout_; }
  bool bidirectional() const { return bidirectional_; }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  int64_t input_size_, hidden_size_;
  int64_t num_layers_ = 1;
  bool bias_ = true;
  double dropout_ = 0.0;
  bool bidirectional_ = false;
};

class LSTMOptions : public RecurrentOptions<LSTMOptions> {
 public:
  using RecurrentOptions::RecurrentOptions;
};

class GRUOptions : public RecurrentOptions<GRUOptions> {
 public:
  using RecurrentOptions::RecurrentOptions;
};

class RNNOptions : public RecurrentOptions<RNNOptions> {
 public:
  using RecurrentOptions::RecurrentOptions;
  // "tanh" (default) or "relu".
  RNNOptions& nonlinearity(const std::string& name) {
    nonlinearity_ = name;
    return *this;
  }
  const std::string& nonlinearity() const { return nonlinearity_; }

 private:
  std::string nonlinearity_ = "tanh";
};

// What forward_with_state returns.
struct RNNOutput {
  Tensor output;  // (N, T, D*H)
  Tensor h_n;     // (num_layers*D, N, H)
  Tensor c_n;     // (num_layers*D, N, H), LSTM only
  int64_t num_directions = 1;
};

// The last layer's final hidden state of each direction, concatenated: (N, D*H). For one direction this
// equals output[:, -1]; for two, it is [forward state after t = T-1, backward state after t = 0].
Tensor last_state(const RNNOutput& out);

// The shared implementation of RNN, LSTM and GRU (use those).
class RNNBase : public Module {
 public:
  enum class Mode { Lstm, Gru, RnnTanh, RnnRelu };

  // The output sequence (N, T, D*H), from zero initial states.
  Tensor forward(const Tensor& x) override;
  // Output and final states. h0 (and c0 for LSTM) are (num_layers*D, N, H); undefined means zeros (LSTM takes
  // both or neither).
  RNNOutput forward_with_state(const Tensor& x, const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());
  Tensor last_state(const RNNOutput& out) const { return nn::last_state(out); }
  // Re-draws every parameter from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's default).
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t num_layers() const { return num_layers_; }
  int64_t num_directions() const { return bidirectional_ ? 2 : 1; }
  // Parameters of layer l, direction d (0 forward, 1 reverse); biases undefined without bias.
  const Tensor& weight_ih(int64_t l, int64_t d = 0) const { return w_ih_[l * num_directions() + d]; }
  const Tensor& weight_hh(int64_t l, int64_t d = 0) const { return w_hh_[l * num_directions() + d]; }
  const Tensor& bias_ih(int64_t l, int64_t d = 0) const { return b_ih_[l * num_directions() + d]; }
  const Tensor& bias_hh(int64_t l, int64_t d = 0) const { return b_hh_[l * num_directions() + d]; }

 protected:
  RNNBase(const char* type_name, Mode mode, int64_t input_size, int64_t hidden_size, int64_t num_layers,
          bool bias, double dropout, bool bidirectional, Generator* gen);

 private:
  Mode mode_;
  int64_t input_size_, hidden_size_, num_layers_;
  bool bias_;
  double dropout_;
  bool bidirectional_;
  std::vector<Tensor> w_ih_, w_hh_, b_ih_, b_hh_;  // index l * D + d
};

class LSTM : public RNNBase {
 public:
  explicit LSTM(const LSTMOptions& options, Generator* gen = nullptr);
  LSTM(int64_t input_size, int64_t hidden_size) : LSTM(LSTMOptions(input_size, hidden_size)) {}
};

class GRU : public RNNBase {
 public:
  explicit GRU(const GRUOptions& options, Generator* gen = nullptr);
  GRU(int64_t input_size, int64_t hidden_size) : GRU(GRUOptions(input_size, hidden_size)) {}
};

class RNN : public RNNBase {
 public:
  explicit RNN(const RNNOptions& options, Generator* gen = nullptr);
  RNN(int64_t input_size, int64_t hidden_size) : RNN(RNNOptions(input_size, hidden_size)) {}
};

}  // namespace ember::nn
