// Reference recurrent layer kernels: one step at a time, one element at a time, straight from the equations
// in include/ember/kernels/rnn.h. Slow and obvious; the tests hold the fast kernels (kernels/cpu/rnn.cpp) to
// it.
#include "ember/kernels/rnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace ember::kernels::ref {

namespace {

template <typename T>
T sigm(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

// W (rows, cols) times v (cols) plus an optional bias, into y (rows).
template <typename T>
void matvec(const T* w, const T* v, const T* b, int64_t rows, int64_t cols, T* y) {
  for (int64_t r = 0; r < rows; ++r) {
    T acc = b ? b[r] : T(0);
    for (int64_t k = 0; k < cols; ++k) acc += w[r * cols + k] * v[k];
    y[r] = acc;
  }
}

}  // namespace

template <typename T>
void rnn_layer_forward(const RnnLayerArgs<T>& a, T* out, T* h_n, T* c_n, T* gates, T* cells) {
  const int64_t N = a.batch, Tn = a.steps, I = a.input, H = a.hidden, GH = rnn_gate_count(a.mode) * H;
  const int64_t CS = rnn_cells_per_step(a.mode, H);
  std::vector<T> h(H), c(H), px(GH), ph(GH);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t j = 0; j < H; ++j) {
      h[j] = a.h0[n * H + j];
      c[j] = a.mode == RnnMode::Lstm ? a.c0[n * H + j] : T(0);
    }
    for (int64_t s = 0; s < Tn; ++s) {
      const int64_t t = a.reverse ? Tn - 1 - s : s, idx = n * Tn + t;
      matvec(a.w_ih, a.x + idx * I, a.b_ih, GH, I, px.data());  // W_ih x + b_ih
      matvec(a.w_hh, h.data(), a.b_hh, GH, H, ph.data());       // W_hh h + b_hh
      T* act = gates + idx * GH;
      T* cell = cells + idx * CS;
      for (int64_t j = 0; j < H; ++j) {
        switch (a.mode) {
          case RnnMode::Lstm: {
            T i = sigm(px[j] + ph[j]), f = sigm(px[H + j] + ph[H + j]);
            T gg = std::tanh(px[2 * H + j] + ph[2 * H + j]), o = sigm(px[3 * H + j] + ph[3 * H + j]);
            c[j] = f * c[j] + i * gg;
            h[j] = o * std::tanh(c[j]);
            act[j] = i, act[H + j] = f, act[2 * H + j] = gg, act[3 * H + j] = o;
            cell[j] = c[j], cell[H + j] = std::tanh(c[j]);
            break;
          }
          case RnnMode::Gru: {
            T r = sigm(px[j] + ph[j]), z = sigm(px[H + j] + ph[H + j]);
            T nn = std::tanh(px[2 * H + j] + r * ph[2 * H + j]);
            h[j] = (1 - z) * nn + z * h[j];
            act[j] = r, act[H + j] = z, act[2 * H + j] = nn;
            cell[j] = ph[2 * H + j];
            break;
          }
          case RnnMode::RnnTanh:
            h[j] = std::tanh(px[j] + ph[j]);
            break;
          case RnnMode::RnnRelu:
            h[j] = std::max(px[j] + ph[j], T(0));
            break;
        }
      }
      std::memcpy(out + idx * H, h.data(), sizeof(T) * H);
    }
    std::memcpy(h_n + n * H, h.data(), sizeof(T) * H);
    if (c_n && a.mode == RnnMode::Lstm) std::memcpy(c_n + n * H, c.data(), sizeof(T) * H);
  }
}

template <typename T>
void rnn_layer_backward(const RnnLayerArgs<T>& a, const T* out, const T* gates, const T* cells, const T* dout,
                        const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih,
                        T* db_hh) {
  const int64_t N = a.batch, Tn = a.steps, I = a.input, H = a.hidden, GH = rnn_gate_count(a.mode) * H;
  const int64_t CS = rnn_cells_per_step(a.mode, H);
  std::vector<T> gx(GH), gh(GH), dh(H), dc(H), dhp(H);
  std::vector<T> w_ih_g(GH * I, T(0)), w_hh_g(GH * H, T(0)), b_ih_g(GH, T(0)), b_hh_g(GH, T(0));
  std::vector<T> dxs(N * Tn * I, T(0)), dh0s(N * H), dc0s(N * H);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t j = 0; j < H; ++j) {
      dh[j] = dh_n ? dh_n[n * H + j] : T(0);
      dc[j] = dc_n ? dc_n[n * H + j] : T(0);
    }
    for (int64_t s = Tn - 1; s >= 0; --s) {
      const int64_t t = a.reverse ? Tn - 1 - s : s, idx = n * Tn + t;
      const int64_t tp = a.reverse ? t + 1 : t - 1;
      const T* hprev = s == 0 ? a.h0 + n * H : out + (n * Tn + tp) * H;
      const T* act = gates + idx * GH;
      const T* cell = cells + idx * CS;
      for (int64_t j = 0; j < H; ++j) {
        const T d = dh[j] + (dout ? dout[idx * H + j] : T(0));
        const T h = out[idx * H + j];
        switch (a.mode) {
          case RnnMode::Lstm: {
            const T i = act[j], f = act[H + j], gg = act[2 * H + j], o = act[3 * H + j], tc = cell[H + j];
            const T cprev = s == 0 ? a.c0[n * H + j] : cells[(n * Tn + tp) * CS + j];
            const T dcj = dc[j] + d * o * (1 - tc * tc);
            gx[j] = dcj * gg * i * (1 - i);
            gx[H + j] = dcj * cprev * f * (1 - f);
            gx[2 * H + j] = dcj * i * (1 - gg * gg);
            gx[3 * H + j] = d * tc * o * (1 - o);
            for (int64_t q = 0; q < 4; ++q) gh[q * H + j] = gx[q * H + j];
            dc[j] = dcj * f;
            dhp[j] = 0;
            break;
          }
          case RnnMode::Gru: {
            const T r = act[j], z = act[H + j], nn = act[2 * H + j];
            const T dn = d * (1 - z) * (1 - nn * nn);
            gx[j] = gh[j] = dn * cell[j] * r * (1 - r);
            gx[H + j] = gh[H + j] = d * (hprev[j] - nn) * z * (1 - z);
            gx[2 * H + j] = dn;
            gh[2 * H + j] = dn * r;
            dhp[j] = d * z;
            break;
          }
          case RnnMode::RnnTanh:
            gx[j] = gh[j] = d * (1 - h * h);
            dhp[j] = 0;
            break;
          case RnnMode::RnnRelu:
            gx[j] = gh[j] = h > 0 ? d : T(0);
            dhp[j] = 0;
            break;
        }
      }
      // Parameter and input gradients of this step.
      for (int64_t r = 0; r < GH; ++r) {
        b_ih_g[r] += gx[r];
        b_hh_g[r] += gh[r];
        for (int64_t k = 0; k < I; ++k) {
          w_ih_g[r * I + k] += gx[r] * a.x[idx * I + k];
          dxs[idx * I + k] += gx[r] * a.w_ih[r * I + k];
        }
        for (int64_t k = 0; k < H; ++k) w_hh_g[r * H + k] += gh[r] * hprev[k];
      }
      for (int64_t k = 0; k < H; ++k) {
        T acc = dhp[k];
        for (int64_t r = 0; r < GH; ++r) acc += gh[r] * a.w_hh[r * H + k];
        dh[k] = acc;
      }
    }
    for (int64_t j = 0; j < H; ++j) {
      dh0s[n * H + j] = dh[j];
      dc0s[n * H + j] = dc[j];
    }
  }
  auto put = [](T* dst, const std::vector<T>& src) {
    if (dst && !src.empty()) std::memcpy(dst, src.data(), sizeof(T) * src.size());
  };
  put(dx, dxs);
  put(dh0, dh0s);
  if (a.mode == RnnMode::Lstm) put(dc0, dc0s);
  put(dw_ih, w_ih_g);
  put(dw_hh, w_hh_g);
  put(db_ih, b_ih_g);
  put(db_hh, b_hh_g);
}

template void rnn_layer_forward<float>(const RnnLayerArgs<float>&, float*, float*, float*, float*, float*);
template void rnn_layer_forward<double>(const RnnLayerArgs<double>&, double*, double*, double*, double*,
                                        double*);
template void rnn_layer_backward<float>(const RnnLayerArgs<float>&, const float*, const float*, const float*,
                                        const float*, const float*, const float*, float*, float*, float*,
                                        float*, float*, float*, float*);
template void rnn_layer_backward<double>(const RnnLayerArgs<double>&, const double*, const double*,
                                         const double*, const double*, const double*, const double*, double*,
                                         double*, double*, double*, double*, double*, double*);

}  // namespace ember::kernels::ref
