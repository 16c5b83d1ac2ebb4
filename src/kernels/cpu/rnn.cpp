// Fast recurrent layer kernels (see include/ember/kernels/rnn.h). All per-sequence matrices are kept in the
// (N, T, .) order of x and out, so that the input projection, dx, dW_ih and dW_hh are single GEMMs over N*T
// rows, and one step's rows are a strided matrix (leading dimension T * width) that GEMM reads in place.
// Scratch memory lives in thread-local vectors that only grow: fresh pages are slow on these machines, and a
// training loop calls the kernels with the same sizes every step.
#include "ember/kernels/rnn.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "ember/kernels/activation.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

int64_t rnn_gate_count(RnnMode mode) {
  switch (mode) {
    case RnnMode::Lstm:
      return 4;
    case RnnMode::Gru:
      return 3;
    default:
      return 1;
  }
}

int64_t rnn_gates_per_step(RnnMode mode, int64_t hidden) {
  return rnn_gate_count(mode) * hidden;
}

int64_t rnn_cells_per_step(RnnMode mode, int64_t hidden) {
  switch (mode) {
    case RnnMode::Lstm:
      return 2 * hidden;
    case RnnMode::Gru:
      return hidden;
    default:
      return 0;
  }
}

namespace {

// A grow-only scratch buffer per thread and element type; `slot` separates buffers used at the same time.
template <typename T>
T* scratch(int slot, size_t n) {
  thread_local std::vector<T> bufs[6];
  auto& v = bufs[slot];
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Batch rows per thread for the recurrence: split once a row's work over the whole sequence (about
// steps * G*H * (H + 8) multiply-adds) adds up to enough to pay for waking the second thread.
int64_t row_grain(int64_t steps, int64_t gh, int64_t hidden) {
  return std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(steps * gh * (hidden + 8), 1));
}

template <typename T>
struct Geometry {
  int64_t N, Tn, I, H, G, GH;
  bool reverse;
  explicit Geometry(const RnnLayerArgs<T>& a)
      : N(a.batch),
        Tn(a.steps),
        I(a.input),
        H(a.hidden),
        G(rnn_gate_count(a.mode)),
        GH(G * a.hidden),
        reverse(a.reverse) {}
  // The time index of processing step s.
  int64_t time(int64_t s) const { return reverse ? Tn - 1 - s : s; }
};

// Column sums of a (rows, cols) row-major matrix into out (cols); columns split over the threads.
template <typename T>
void column_sums(const T* m, int64_t rows, int64_t cols, T* out) {
  parallel_for(0, cols, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) out[j] = T(0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = m + r * cols;
      for (int64_t j = lo; j < hi; ++j) out[j] += row[j];
    }
  });
}

}  // namespace

template <typename T>
void rnn_layer_forward(const RnnLayerArgs<T>& a, T* out, T* h_n, T* c_n, T* gates, T* cells) {
  const Geometry<T> g(a);
  const int64_t N = g.N, Tn = g.Tn, H = g.H, GH = g.GH, NT = N * Tn;
  if (N == 0 || H == 0) return;
  if (Tn == 0) {
    std::memcpy(h_n, a.h0, sizeof(T) * N * H);
    if (c_n) std::memcpy(c_n, a.c0, sizeof(T) * N * H);
    return;
  }
  // The input projection of every step, with the biases that are plain additions folded in (GRU keeps b_hn
  // apart: r multiplies W_hn h + b_hn).
  T* bias = scratch<T>(0, GH);
  for (int64_t j = 0; j < GH; ++j) {
    T b = a.b_ih ? a.b_ih[j] : T(0);
    if (a.b_hh && !(a.mode == RnnMode::Gru && j >= 2 * H)) b += a.b_hh[j];
    bias[j] = b;
  }
  T* xproj = scratch<T>(1, NT * GH);
  parallel_for(0, NT, 256, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) std::memcpy(xproj + r * GH, bias, sizeof(T) * GH);
  });
  if (g.I > 0) gemm(false, true, NT, GH, g.I, T(1), a.x, g.I, a.w_ih, g.I, T(1), xproj, GH);

  T* hproj = scratch<T>(2, N * GH);
  T* pre_all = scratch<T>(3, N * GH);
  const T* b_hn = a.b_hh && a.mode == RnnMode::Gru ? a.b_hh + 2 * H : nullptr;
  // Batch rows are independent through the recurrence: each thread runs every step for its own rows, so the
  // threads meet once per call instead of at every step (per-step barriers cost milliseconds on a loaded
  // machine).
  parallel_for(0, N, row_grain(Tn, GH, H), [&](int64_t lo, int64_t hi) {
    for (int64_t s = 0; s < Tn; ++s) {
      const int64_t t = g.time(s), tp = s > 0 ? g.time(s - 1) : -1;
      const T* hprev = s == 0 ? a.h0 : out + tp * H;
      const int64_t ldh = s == 0 ? H : Tn * H;
      gemm(false, true, hi - lo, GH, H, T(1), hprev + lo * ldh, ldh, a.w_hh, H, T(0), hproj + lo * GH, GH);
      {
        for (int64_t n = lo; n < hi; ++n) {
          const int64_t idx = n * Tn + t;
          const T* xp = xproj + idx * GH;
          const T* hp = hproj + n * GH;
          const T* hprow = hprev + n * ldh;
          T* pre = pre_all + n * GH;
          T* act = gates + idx * GH;
          T* h = out + idx * H;
          switch (a.mode) {
            case RnnMode::Lstm: {
              for (int64_t j = 0; j < GH; ++j) pre[j] = xp[j] + hp[j];
              sigmoid(pre, act, 2 * H);
              tanh(pre + 2 * H, act + 2 * H, H);
              sigmoid(pre + 3 * H, act + 3 * H, H);
              const T* cprev = s == 0 ? a.c0 + n * H : cells + (n * Tn + tp) * 2 * H;
              T* c = cells + idx * 2 * H;
              T* tc = c + H;
              for (int64_t j = 0; j < H; ++j) c[j] = act[H + j] * cprev[j] + act[j] * act[2 * H + j];
              tanh(c, tc, H);
              for (int64_t j = 0; j < H; ++j) h[j] = act[3 * H + j] * tc[j];
              break;
            }
            case RnnMode::Gru: {
              for (int64_t j = 0; j < 2 * H; ++j) pre[j] = xp[j] + hp[j];
              sigmoid(pre, act, 2 * H);
              T* hn = cells + idx * H;
              for (int64_t j = 0; j < H; ++j) {
                hn[j] = hp[2 * H + j] + (b_hn ? b_hn[j] : T(0));
                pre[2 * H + j] = xp[2 * H + j] + act[j] * hn[j];
              }
              tanh(pre + 2 * H, act + 2 * H, H);
              for (int64_t j = 0; j < H; ++j) {
                const T z = act[H + j], nn = act[2 * H + j];
                h[j] = nn + z * (hprow[j] - nn);
              }
              break;
            }
            case RnnMode::RnnTanh: {
              for (int64_t j = 0; j < H; ++j) pre[j] = xp[j] + hp[j];
              tanh(pre, h, H);
              break;
            }
            case RnnMode::RnnRelu: {
              for (int64_t j = 0; j < H; ++j) {
                const T v = xp[j] + hp[j];
                h[j] = v > T(0) ? v : T(0);
              }
              break;
            }
          }
        }
      }
    }
  });
  const int64_t tl = g.time(Tn - 1);
  for (int64_t n = 0; n < N; ++n) {
    std::memcpy(h_n + n * H, out + (n * Tn + tl) * H, sizeof(T) * H);
    if (c_n && a.mode == RnnMode::Lstm)
      std::memcpy(c_n + n * H, cells + (n * Tn + tl) * 2 * H, sizeof(T) * H);
  }
}

template <typename T>
void rnn_layer_backward(const RnnLayerArgs<T>& a, const T* out, const T* gates, const T* cells, const T* dout,
                        const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih,
                        T* db_hh) {
  const Geometry<T> g(a);
  const int64_t N = g.N, Tn = g.Tn, I = g.I, H = g.H, GH = g.GH, NT = N * Tn;
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru;
  auto zero = [](T* p, int64_t n) {
    if (p && n > 0) std::memset(p, 0, sizeof(T) * n);
  };
  if (NT == 0 || H == 0) {
    zero(dx, NT * I);
    zero(dw_ih, GH * I);
    zero(dw_hh, GH * H);
    zero(db_ih, GH);
    zero(db_hh, GH);
    if (dh0) {
      if (dh_n)
        std::memcpy(dh0, dh_n, sizeof(T) * N * H);
      else
        zero(dh0, N * H);
    }
    if (dc0) {
      if (dc_n)
        std::memcpy(dc0, dc_n, sizeof(T) * N * H);
      else
        zero(dc0, N * H);
    }
    return;
  }
  // dG: gradients of the gate pre-activations, (N, T, GH). For GRU the hidden side differs in the n gate
  // (r scales W_hn h + b_hn), so dGh is its own buffer; for LSTM and RNN it is dG.
  T* dG = scratch<T>(0, NT * GH);
  T* dGh = gru ? scratch<T>(1, NT * GH) : dG;
  T* dhr = scratch<T>(2, N * H);  // dL/dh of the state entering the current step, from later steps
  T* dc = scratch<T>(3, N * H);
  // hprev (N, T, H): the state each step started from (h0 for the first processed step).
  T* hprev = scratch<T>(4, NT * H);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < Tn; ++s) {
      const T* src = s == 0 ? a.h0 + n * H : out + (n * Tn + g.time(s - 1)) * H;
      std::memcpy(hprev + (n * Tn + g.time(s)) * H, src, sizeof(T) * H);
    }
  if (dh_n)
    std::memcpy(dhr, dh_n, sizeof(T) * N * H);
  else
    zero(dhr, N * H);
  if (lstm) {
    if (dc_n)
      std::memcpy(dc, dc_n, sizeof(T) * N * H);
    else
      zero(dc, N * H);
  }
  parallel_for(0, N, row_grain(Tn, GH, H), [&](int64_t lo, int64_t hi) {
    for (int64_t s = Tn - 1; s >= 0; --s) {
      const int64_t t = g.time(s), tp = s > 0 ? g.time(s - 1) : -1;
      {
        for (int64_t n = lo; n < hi; ++n) {
          const int64_t idx = n * Tn + t;
          const T* act = gates + idx * GH;
          const T* h = out + idx * H;
          const T* dy = dout ? dout + idx * H : nullptr;
          T* dh = dhr + n * H;
          T* dg = dG + idx * GH;
          switch (a.mode) {
            case RnnMode::Lstm: {
              const T* c = cells + idx * 2 * H;
              const T* tc = c + H;
              const T* cprev = s == 0 ? a.c0 + n * H : cells + (n * Tn + tp) * 2 * H;
              T* dcn = dc + n * H;
              for (int64_t j = 0; j < H; ++j) {
                const T dhj = dh[j] + (dy ? dy[j] : T(0));
                const T i = act[j], f = act[H + j], gg = act[2 * H + j], o = act[3 * H + j], tcj = tc[j];
                const T dcj = dcn[j] + dhj * o * (T(1) - tcj * tcj);
                dg[j] = dcj * gg * i * (T(1) - i);
                dg[H + j] = dcj * cprev[j] * f * (T(1) - f);
                dg[2 * H + j] = dcj * i * (T(1) - gg * gg);
                dg[3 * H + j] = dhj * tcj * o * (T(1) - o);
                dcn[j] = dcj * f;
              }
              break;
            }
            case RnnMode::Gru: {
              const T* hn = cells + idx * H;
              const T* hp = hprev + idx * H;
              T* dgh = dGh + idx * GH;
              for (int64_t j = 0; j < H; ++j) {
                const T dhj = dh[j] + (dy ? dy[j] : T(0));
                const T r = act[j], z = act[H + j], nn = act[2 * H + j];
                const T dpn = dhj * (T(1) - z) * (T(1) - nn * nn);
                const T dpz = dhj * (hp[j] - nn) * z * (T(1) - z);
                const T dpr = dpn * hn[j] * r * (T(1) - r);
                dg[j] = dpr;
                dg[H + j] = dpz;
                dg[2 * H + j] = dpn;
                dgh[j] = dpr;
                dgh[H + j] = dpz;
                dgh[2 * H + j] = dpn * r;
                dh[j] = dhj * z;  // the direct path; the GEMM below adds W_hh's
              }
              break;
            }
            case RnnMode::RnnTanh: {
              for (int64_t j = 0; j < H; ++j) dg[j] = (dh[j] + (dy ? dy[j] : T(0))) * (T(1) - h[j] * h[j]);
              break;
            }
            case RnnMode::RnnRelu: {
              for (int64_t j = 0; j < H; ++j) dg[j] = h[j] > T(0) ? dh[j] + (dy ? dy[j] : T(0)) : T(0);
              break;
            }
          }
        }
      }
      // dL/dh_prev (+)= dGh[:, t] @ W_hh
      gemm(false, false, hi - lo, H, GH, T(1), dGh + (lo * Tn + t) * GH, Tn * GH, a.w_hh, H,
           gru ? T(1) : T(0), dhr + lo * H, H);
    }
  });
  if (dh0) std::memcpy(dh0, dhr, sizeof(T) * N * H);
  if (dc0 && lstm) std::memcpy(dc0, dc, sizeof(T) * N * H);
  if (dx) {
    if (I > 0) gemm(false, false, NT, I, GH, T(1), dG, GH, a.w_ih, I, T(0), dx, I);
  }
  if (dw_ih && I > 0) gemm(true, false, GH, I, NT, T(1), dG, GH, a.x, I, T(0), dw_ih, I);
  if (dw_hh) gemm(true, false, GH, H, NT, T(1), dGh, GH, hprev, H, T(0), dw_hh, H);
  if (db_ih) column_sums(dG, NT, GH, db_ih);
  if (db_hh) {
    if (db_ih && !gru) {
      std::memcpy(db_hh, db_ih, sizeof(T) * GH);
    } else {
      column_sums(dGh, NT, GH, db_hh);
    }
  }
}

#define EMBER_RNN_INSTANTIATE(T)                                                                      \
  template void rnn_layer_forward<T>(const RnnLayerArgs<T>&, T*, T*, T*, T*, T*);                     \
  template void rnn_layer_backward<T>(const RnnLayerArgs<T>&, const T*, const T*, const T*, const T*, \
                                      const T*, const T*, T*, T*, T*, T*, T*, T*, T*);
EMBER_RNN_INSTANTIATE(float)
EMBER_RNN_INSTANTIATE(double)
#undef EMBER_RNN_INSTANTIATE

}  // namespace ember::kernels
