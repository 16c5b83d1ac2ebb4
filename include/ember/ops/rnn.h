// Fused recurrent layer ops: one layer, one direction, the whole sequence in one call, PyTorch's equations
// and weight layout (so weights are exchangeable with torch.nn.LSTM / GRU / RNN). x is batch-first (N, T, I);
// h0 and c0 are (N, H); w_ih (G*H, I), w_hh (G*H, H), b_ih and b_hh (G*H) or undefined, with G = 4 (LSTM
// gates i, f, g, o), 3 (GRU gates r, z, n) or 1. `reverse` runs the sequence from t = T-1 down to 0 (the
// backward direction of a bidirectional layer); output[:, t] is still the state at time t. Gradients flow to
// every input from any of the results. nn::LSTM / GRU / RNN stack these into layers and directions.
//
//   auto r = ember::lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
//   r.output;   // (N, T, H)
//   r.h_n;      // (N, H): the state after the last processed step; r.c_n likewise (LSTM only)
#pragma once

#include "ember/core/tensor.h"

namespace ember {

struct RnnLayerResult {
  Tensor output;  // (N, T, H)
  Tensor h_n;     // (N, H)
  Tensor c_n;     // (N, H), LSTM only
};

RnnLayerResult lstm_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                          const Tensor& w_hh, const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor(),
                          bool reverse = false);
RnnLayerResult gru_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                         const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor(), bool reverse = false);
// h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
RnnLayerResult rnn_tanh_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor(),
                              bool reverse = false);
// h' = relu(W_ih x + b_ih + W_hh h + b_hh)
RnnLayerResult rnn_relu_layer(const Tensor& x, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor(),
                              bool reverse = false);

}  // namespace ember
