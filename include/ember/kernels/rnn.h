// Whole-sequence recurrent layer kernels (one layer, one direction), PyTorch's equations and gate order:
//   LSTM (gates i, f, g, o):  i,f,o = sigmoid(.), g = tanh(.), c' = f c + i g, h' = o tanh(c')
//   GRU  (gates r, z, n):     r,z = sigmoid(.), n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1-z) n + z
//   h RNN:                      h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)
// Layout: x (N, T, I), out (N, T, H), weights (G*H, I) and (G*H, H) like PyTorch, all row-major contiguous.
// The forward does one GEMM for the input projections of all steps, then per step one GEMM with the hidden
// state and a fused gate kernel; it keeps what the backward needs in `gates` and `cells` (sizes below). The
// backward is BPTT: per step a fused gate-gradient kernel and one GEMM, then dx, dW_ih, dW_hh as one GEMM
// each.
//
//   kernels::RnnLayerArgs<float> a{kernels::RnnMode::Lstm, N, T, I, H, false, x, h0, c0, w_ih, w_hh, b_ih,
//   b_hh}; kernels::rnn_layer_forward(a, out, h_n, c_n, gates, cells);
#pragma once

#include <cstdint>

namespace ember::kernels {

enum class RnnMode { Lstm, Gru, RnnTanh, RnnRelu };

// Number of gates G: 4 (LSTM), 3 (GRU), 1 (RNN).
int64_t rnn_gate_count(RnnMode mode);
// Elements of the saved buffers per (batch, step): gates G*H; cells 2*H (LSTM: c and tanh c), H (GRU: W_hn h
// + b_hn), 0 (RNN).
int64_t rnn_gates_per_step(RnnMode mode, int64_t hidden);
int64_t rnn_cells_per_step(RnnMode mode, int64_t hidden);

template <typename T>
struct RnnLayerArgs {
  RnnMode mode;
  int64_t batch, steps, input, hidden;
  bool reverse;  // process t = T-1 ... 0
  const T* x;
  const T* h0;  // (N, H)
  const T* c0;  // (N, H), LSTM only
  const T* w_ih;
  const T* w_hh;
  const T* b_ih;  // (G*H) or null
  const T* b_hh;  // (G*H) or null
};

// out (N, T, H), h_n and c_n (N, H; c_n LSTM only, may be null), gates (N*T*G*H), cells (N*T*cells_per_step).
template <typename T>
void rnn_layer_forward(const RnnLayerArgs<T>& a, T* out, T* h_n, T* c_n, T* gates, T* cells);

// Gradients from those of out (N, T, H), h_n and c_n (each may be null: zero). Any result pointer may be null
// (not wanted); results are overwritten, not accumulated. `out`, `gates`, `cells` are the forward's.
template <typename T>
void rnn_layer_backward(const RnnLayerArgs<T>& a, const T* out, const T* gates, const T* cells, const T* dout,
                        const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih,
                        T* db_hh);

namespace ref {
// Plain loops with std::exp / std::tanh and gemm_ref: the oracle for the fast kernels (same buffers).
template <typename T>
void rnn_layer_forward(const RnnLayerArgs<T>& a, T* out, T* h_n, T* c_n, T* gates, T* cells);
template <typename T>
void rnn_layer_backward(const RnnLayerArgs<T>& a, const T* out, const T* gates, const T* cells, const T* dout,
                        const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih,
                        T* db_hh);
}  // namespace ref

}  // namespace ember::kernels
