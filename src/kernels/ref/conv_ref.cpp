// Reference kernels: direct loops written for clarity, the oracle for the fast kernels and the float64 path.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ember/kernels/conv.h"

namespace ember::kernels {

// y[n][o][i][j] = b[o] + sum_{c in group(o), p, q} x[n][c][i*sh - pt + p*dh][j*sw - pl + q*dw] *
// w[o][c'][p][q]
template <typename T>
void conv2d_forward_ref(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o) {
      const int64_t grp = o / og;
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          T acc = b ? b[o] : T(0);
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p) {
              const int64_t hi = i * g.sh - g.pt + p * g.dh;
              if (hi < 0 || hi >= g.h) continue;
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t wi = j * g.sw - g.pl + q * g.dw;
                if (wi < 0 || wi >= g.w) continue;
                acc += x[((n * g.c + grp * cg + c) * g.h + hi) * g.w + wi] *
                       w[((o * cg + c) * g.kh + p) * g.kw + q];
              }
            }
          y[((n * g.o + o) * g.oh + i) * g.ow + j] = acc;
        }
    }
}

// The transpose of the forward: each output gradient flows back to the inputs its window touched.
template <typename T>
void conv2d_backward_data_ref(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  std::fill(dx, dx + g.n * g.c * g.h * g.w, T(0));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o) {
      const int64_t grp = o / og;
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          const T d = dy[((n * g.o + o) * g.oh + i) * g.ow + j];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p) {
              const int64_t hi = i * g.sh - g.pt + p * g.dh;
              if (hi < 0 || hi >= g.h) continue;
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t wi = j * g.sw - g.pl + q * g.dw;
                if (wi < 0 || wi >= g.w) continue;
                dx[((n * g.c + grp * cg + c) * g.h + hi) * g.w + wi] +=
                    d * w[((o * cg + c) * g.kh + p) * g.kw + q];
              }
            }
        }
    }
}

template <typename T>
void conv2d_backward_weights_ref(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* db) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  std::fill(dw, dw + g.o * cg * g.kh * g.kw, T(0));
  if (db) std::fill(db, db + g.o, T(0));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o) {
      const int64_t grp = o / og;
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          const T d = dy[((n * g.o + o) * g.oh + i) * g.ow + j];
          if (db) db[o] += d;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p) {
              const int64_t hi = i * g.sh - g.pt + p * g.dh;
              if (hi < 0 || hi >= g.h) continue;
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t wi = j * g.sw - g.pl + q * g.dw;
                if (wi < 0 || wi >= g.w) continue;
                dw[((o * cg + c) * g.kh + p) * g.kw + q] +=
                    d * x[((n * g.c + grp * cg + c) * g.h + hi) * g.w + wi];
              }
            }
        }
    }
}

// Max over each window, clipped to the input (padding never wins).
template <typename T>
void max_pool2d_forward_ref(const Pool2dGeom& g, const T* x, T* y, int32_t* argmax) {
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const T* xp = x + pl * g.h * g.w;
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = -1;
        for (int64_t p = 0; p < g.kh; ++p) {
          const int64_t hi = i * g.sh - g.ph + p;
          if (hi < 0 || hi >= g.h) continue;
          for (int64_t q = 0; q < g.kw; ++q) {
            const int64_t wi = j * g.sw - g.pw + q;
            if (wi < 0 || wi >= g.w) continue;
            const T v = xp[hi * g.w + wi];
            if (arg < 0 || v > best || std::isnan(v)) {
              best = v;
              arg = hi * g.w + wi;
            }
          }
        }
        y[(pl * g.oh + i) * g.ow + j] = best;
        argmax[(pl * g.oh + i) * g.ow + j] = int32_t(arg);
      }
  }
}

// Batch norm, one channel at a time, accumulating in double.
template <typename T>
void batch_norm_forward_ref(int64_t n, int64_t c, int64_t s, const T* x, const T* w, const T* b, T* y,
                            bool training, double momentum, double eps, T* running_mean, T* running_var,
                            T* mean, T* invstd) {
  const int64_t m = n * s;
  for (int64_t ch = 0; ch < c; ++ch) {
    double mu, var;
    if (training) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) sum += x[(i * c + ch) * s + k];
      mu = sum / m;
      double sq = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) {
          double d = x[(i * c + ch) * s + k] - mu;
          sq += d * d;
        }
      var = sq / m;
      if (running_mean) running_mean[ch] = T((1 - momentum) * running_mean[ch] + momentum * mu);
      if (running_var)
        running_var[ch] = T((1 - momentum) * running_var[ch] + momentum * (m > 1 ? sq / (m - 1) : sq));
    } else {
      mu = running_mean[ch];
      var = running_var[ch];
    }
    const double is = 1.0 / std::sqrt(var + eps);
    mean[ch] = T(mu);
    invstd[ch] = T(is);
    const double scale = (w ? double(w[ch]) : 1.0) * is, shift = b ? double(b[ch]) : 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k)
        y[(i * c + ch) * s + k] = T((x[(i * c + ch) * s + k] - mu) * scale + shift);
  }
}

// Training: dx = w*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)); eval: dx = w*invstd*dy.
template <typename T>
void batch_norm_backward_ref(int64_t n, int64_t c, int64_t s, const T* x, const T* dy, const T* w,
                             const T* mean, const T* invstd, bool training, T* dx, T* dw, T* db) {
  const int64_t m = n * s;
  for (int64_t ch = 0; ch < c; ++ch) {
    double sdy = 0, sdyx = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) {
        const int64_t idx = (i * c + ch) * s + k;
        sdy += dy[idx];
        sdyx += dy[idx] * (x[idx] - double(mean[ch])) * double(invstd[ch]);
      }
    if (dw) dw[ch] = T(sdyx);
    if (db) db[ch] = T(sdy);
    if (!dx) continue;
    const double scale = (w ? double(w[ch]) : 1.0) * double(invstd[ch]);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) {
        const int64_t idx = (i * c + ch) * s + k;
        if (training) {
          const double xhat = (x[idx] - double(mean[ch])) * double(invstd[ch]);
          dx[idx] = T(scale * (dy[idx] - sdy / m - xhat * sdyx / m));
        } else {
          dx[idx] = T(scale * dy[idx]);
        }
      }
  }
}

#define EMBER_INSTANTIATE_REF(T)                                                                             \
  template void conv2d_forward_ref<T>(const Conv2dGeom&, const T*, const T*, const T*, T*);                  \
  template void conv2d_backward_data_ref<T>(const Conv2dGeom&, const T*, const T*, T*);                      \
  template void conv2d_backward_weights_ref<T>(const Conv2dGeom&, const T*, const T*, T*, T*);               \
  template void max_pool2d_forward_ref<T>(const Pool2dGeom&, const T*, T*, int32_t*);                        \
  template void batch_norm_forward_ref<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, bool, \
                                          double, double, T*, T*, T*, T*);                                   \
  template void batch_norm_backward_ref<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*,          \
                                           const T*, const T*, bool, T*, T*, T*);
EMBER_INSTANTIATE_REF(float)
EMBER_INSTANTIATE_REF(double)

}  // namespace ember::kernels
