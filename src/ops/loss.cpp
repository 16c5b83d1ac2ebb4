// Losses, each a fused op with its backward written next to it. Elementwise losses (mse, binary
// cross-entropy) compute one value per element and reduce in fixed blocks of the flat index, so sums do not
// depend on the thread count. Cross-entropy uses the fused softmax kernels of kernels/loss.h and saves only
// the logits and one log-sum-exp per position.
#include "ember/ops/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/kernels/loss.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

constexpr double kKerasEpsilon = 1e-7;  // keras.backend.epsilon()

void check_defined(const Tensor& t, const char* op, const char* what) {
  EMBER_CHECK(t.defined(), ValueError, op, ": ", what, " is an undefined tensor");
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op, const char* input_name) {
  EMBER_CHECK(input.shape() == target.shape(), ShapeError, op, ": target shape ", target.shape(),
              " does not match ", input_name, " shape ", input.shape());
}

void check_float_target(const Tensor& input, const Tensor& target, const char* op) {
  EMBER_CHECK(target.dtype() == input.dtype(), DTypeError, op, ": target has dtype ",
              dtype_name(target.dtype()), ", expected ", dtype_name(input.dtype()), " (the input's dtype)");
}

// A constant (weight-like) tensor broadcast to `shape` and made contiguous; undefined stays undefined.
Tensor broadcast_constant(const Tensor& w, const Shape& shape, DType dt, const char* op, const char* what) {
  if (!w.defined()) return w;
  EMBER_CHECK(w.dtype() == dt, DTypeError, op, ": ", what, " has dtype ", dtype_name(w.dtype()),
              ", expected ", dtype_name(dt));
  Shape b = broadcast_shapes(w.shape(), shape, op);
  EMBER_CHECK(b == shape, ShapeError, op, ": ", what, " of shape ", w.shape(),
              " does not broadcast to the input shape ", shape);
  if (w.shape() == shape) return contiguous_data(w);
  return contiguous_data(as_strided(w, shape, kernels::broadcast_strides(w, shape), w.offset()));
}

// Sum of f(i) over [0, n) in fixed blocks (deterministic for any thread count), accumulated in double.
template <typename F>
double block_sum(int64_t n, F f) {
  constexpr int64_t kBlock = 4096;
  int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(nb), 0.0);
  parallel_for(0, nb, std::max<int64_t>(1, kernels::kParallelGrain / kBlock), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      double s = 0;
      int64_t end = std::min(n, (b + 1) * kBlock);
      for (int64_t i = b * kBlock; i < end; ++i) s += static_cast<double>(f(i));
      part[b] = s;
    }
  });
  double s = 0;
  for (double v : part) s += v;
  return s;
}

Tensor scalar_out(double v, DType dt) {
  Tensor out = empty(Shape{}, dt);
  dispatch_floating(dt, "loss", [&](auto tag) {
    using T = decltype(tag);
    *out.data<T>() = static_cast<T>(v);
  });
  return out;
}

// Per-element losses f(i) for i in [0, n), reduced as asked; `shape` is the None result's shape.
template <typename T, typename F>
Tensor reduce_elementwise(int64_t n, const Shape& shape, DType dt, Reduction r, F f) {
  if (r == Reduction::None) {
    Tensor out = empty(shape, dt);
    T* o = out.data<T>();
    parallel_for(0, n, kernels::kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = f(i);
    });
    return out;
  }
  double s = block_sum(n, f);
  if (r == Reduction::Mean) s /= static_cast<double>(n);
  return scalar_out(s, dt);
}

// The incoming gradient as a multiplier per element: g[i] * scale (None) or g[0] * scale.
template <typename T>
struct GradScale {
  Tensor g;  // keeps the contiguous data alive
  const T* p = nullptr;
  bool per_element = false;
  T scale = 1;
  T operator()(int64_t i) const { return scale * (per_element ? p[i] : p[0]); }
};

template <typename T>
GradScale<T> grad_scale(const Tensor& g, Reduction r, double denominator) {
  GradScale<T> s;
  s.g = contiguous_data(g);
  s.p = s.g.template data<T>();
  s.per_element = r == Reduction::None;
  s.scale = static_cast<T>(r == Reduction::Mean ? 1.0 / denominator : 1.0);
  return s;
}

// Fills a new tensor of `shape` with f(i) in parallel.
template <typename T, typename F>
Tensor fill_elementwise(const Shape& shape, DType dt, F f) {
  Tensor out = empty(shape, dt);
  T* o = out.data<T>();
  parallel_for(0, shape.numel(), kernels::kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) o[i] = f(i);
  });
  return out;
}

Shape drop_axis(const Shape& s, size_t axis) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (i != axis) out.push_back(s[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// mse_loss: (p - t)^2; d/dp = 2 (p - t), d/dt = -2 (p - t).

struct MseBackward : autograd::Node {
  SavedTensor pred, target;
  Reduction reduction = Reduction::Mean;
  const char* name() const override { return "mse_loss"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& p = pred.get(this);
    const Tensor& t = target.get(this);
    return dispatch_floating(p.dtype(), "mse_loss", [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      auto s = grad_scale<T>(g, reduction, static_cast<double>(p.numel()));
      const T *pp = p.data<T>(), *pt = t.data<T>();
      Tensor dp =
          fill_elementwise<T>(p.shape(), p.dtype(), [&](int64_t i) { return 2 * (pp[i] - pt[i]) * s(i); });
      Tensor dt;
      if (next_edges[1].fn) dt = neg(dp);
      return {next_edges[0].fn ? dp : Tensor(), dt};
    });
  }
  void release_saved() override {
    pred.reset();
    target.reset();
  }
};

// ---------------------------------------------------------------------------------------------------------
// binary_cross_entropy: -w (t log p + (1 - t) log(1 - p)) with logs clamped at -100.
// d/dp = w (p - t) / max(p (1 - p), 1e-12) (PyTorch's form); d/dt = w (log(1 - p) - log p), clamped logs.

template <typename T>
inline T clamped_log(T v) {
  return std::max(std::log(v), T(-100));
}

struct BceBackward : autograd::Node {
  SavedTensor probs, target, weight;
  Reduction reduction = Reduction::Mean;
  const char* name() const override { return "binary_cross_entropy"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& p = probs.get(this);
    const Tensor& t = target.get(this);
    Tensor w = weight.defined() ? weight.get(this) : Tensor();
    return dispatch_floating(p.dtype(), name(), [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      auto s = grad_scale<T>(g, reduction, static_cast<double>(p.numel()));
      const T *pp = p.data<T>(), *pt = t.data<T>(), *pw = w.defined() ? w.data<T>() : nullptr;
      Tensor dp, dt;
      if (next_edges[0].fn)
        dp = fill_elementwise<T>(p.shape(), p.dtype(), [&](int64_t i) {
          T wi = pw ? pw[i] : T(1);
          return s(i) * wi * (pp[i] - pt[i]) / std::max((1 - pp[i]) * pp[i], T(1e-12));
        });
      if (next_edges[1].fn)
        dt = fill_elementwise<T>(p.shape(), p.dtype(), [&](int64_t i) {
          T wi = pw ? pw[i] : T(1);
          return s(i) * wi * (clamped_log<T>(1 - pp[i]) - clamped_log<T>(pp[i]));
        });
      return {dp, dt};
    });
  }
  void release_saved() override {
    probs.reset();
    target.reset();
    weight.reset();
  }
};

// ---------------------------------------------------------------------------------------------------------
// binary_cross_entropy_with_logits, with lw = 1 + (pos_weight - 1) t and softplus(-x) = log1p(exp(-|x|)) +
// max(-x, 0):  loss = w ((1 - t) x + lw softplus(-x)),  d/dx = w ((1 - t) - lw sigmoid(-x)),
// d/dt = w ((pos_weight - 1) softplus(-x) - x).

template <typename T>
inline T softplus_neg(T x) {
  return std::log1p(std::exp(-std::abs(x))) + std::max(-x, T(0));
}
template <typename T>
inline T sigmoid_neg(T x) {  // sigmoid(-x), stable both ways
  T e = std::exp(-std::abs(x));
  return x >= 0 ? e / (1 + e) : 1 / (1 + e);
}

struct BceLogitsBackward : autograd::Node {
  SavedTensor logits, target, weight, pos_weight;
  Reduction reduction = Reduction::Mean;
  const char* name() const override { return "binary_cross_entropy_with_logits"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& x = logits.get(this);
    const Tensor& t = target.get(this);
    Tensor w = weight.defined() ? weight.get(this) : Tensor();
    Tensor pw = pos_weight.defined() ? pos_weight.get(this) : Tensor();
    return dispatch_floating(x.dtype(), name(), [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      auto s = grad_scale<T>(g, reduction, static_cast<double>(x.numel()));
      const T *px = x.data<T>(), *pt = t.data<T>();
      const T* pwt = w.defined() ? w.data<T>() : nullptr;
      const T* ppw = pw.defined() ? pw.data<T>() : nullptr;
      Tensor dx, dt;
      if (next_edges[0].fn)
        dx = fill_elementwise<T>(x.shape(), x.dtype(), [&](int64_t i) {
          T lw = ppw ? 1 + (ppw[i] - 1) * pt[i] : T(1);
          T wi = pwt ? pwt[i] : T(1);
          return s(i) * wi * ((1 - pt[i]) - lw * sigmoid_neg(px[i]));
        });
      if (next_edges[1].fn)
        dt = fill_elementwise<T>(x.shape(), x.dtype(), [&](int64_t i) {
          T wi = pwt ? pwt[i] : T(1);
          T extra = ppw ? (ppw[i] - 1) * softplus_neg(px[i]) : T(0);
          return s(i) * wi * (extra - px[i]);
        });
      return {dx, dt};
    });
  }
  void release_saved() override {
    logits.reset();
    target.reset();
    weight.reset();
    pos_weight.reset();
  }
};

// ---------------------------------------------------------------------------------------------------------
// Softmax cross-entropy (see kernels/loss.h for the formulas).

struct CeGeometry {
  int64_t n = 0, c = 0, d = 1;
  Shape loss_shape;  // per-position (Reduction::None) shape
};

// Logits (C,), (N, C) or (N, C, d...): class axis 0 for rank 1, else 1.
CeGeometry ce_geometry(const Tensor& logits, const char* op, const char* what) {
  EMBER_CHECK(logits.dim() >= 1, ShapeError, op, ": ", what, " must have a class axis, got shape ",
              logits.shape());
  CeGeometry g;
  const Shape& s = logits.shape();
  if (s.size() == 1) {
    g.n = 1;
    g.c = s[0];
  } else {
    g.n = s[0];
    g.c = s[1];
    for (size_t i = 2; i < s.size(); ++i) g.d *= s[i];
  }
  g.loss_shape = drop_axis(s, s.size() == 1 ? 0 : 1);
  return g;
}

// Checks an int64 class-index target against the geometry; returns the summed weight of non-ignored targets.
template <typename T>
double check_class_indices(const Tensor& target, const CeGeometry& geo, const T* w, int64_t ignore_index,
                           const char* op) {
  const int64_t* t = target.data<int64_t>();
  double total = 0;
  for (int64_t i = 0, m = target.numel(); i < m; ++i) {
    int64_t k = t[i];
    if (k == ignore_index) continue;
    EMBER_CHECK(k >= 0 && k < geo.c, IndexError, op, ": target class index ", k, " is out of range for ",
                geo.c, " classes");
    total += w ? static_cast<double>(w[k]) : 1.0;
  }
  return total;
}

struct SoftmaxCeBackward : autograd::Node {
  SavedTensor logits, target, weight, lse;
  CeGeometry geo;
  bool prob_target = false;
  int64_t ignore_index = -100;
  double smoothing = 0;
  Reduction reduction = Reduction::Mean;
  double denominator = 1;
  const char* op = "cross_entropy";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& x = logits.get(this);
    const Tensor& t = target.get(this);
    Tensor w = weight.defined() ? weight.get(this) : Tensor();
    const Tensor& l = lse.get(this);
    return dispatch_floating(x.dtype(), op, [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      kernels::SoftmaxCeArgs<T> a;
      a.x = x.data<T>();
      a.n = geo.n;
      a.c = geo.c;
      a.d = geo.d;
      if (prob_target)
        a.target_prob = t.data<T>();
      else
        a.target_index = t.data<int64_t>();
      a.weight = w.defined() ? w.data<T>() : nullptr;
      a.ignore_index = ignore_index;
      a.smoothing = smoothing;
      Tensor gc = contiguous_data(g);
      Tensor dx = empty(x.shape(), x.dtype());
      Tensor dt;
      if (prob_target && next_edges.size() > 1 && next_edges[1].fn) dt = empty(t.shape(), t.dtype());
      double scale = reduction == Reduction::Mean ? 1.0 / denominator : 1.0;
      kernels::softmax_ce_backward<T>(a, l.data<T>(), gc.data<T>(), reduction == Reduction::None, scale,
                                      dx.data<T>(), dt.defined() ? dt.data<T>() : nullptr);
      return {next_edges[0].fn ? dx : Tensor(), dt};
    });
  }
  void release_saved() override {
    logits.reset();
    target.reset();
    weight.reset();
    lse.reset();
  }
};

// The fused op behind cross_entropy and the from_logits Keras helpers. `target` is already validated.
Tensor softmax_ce(const Tensor& logits, const Tensor& target, const Tensor& weight, const CeGeometry& geo,
                  bool prob_target, int64_t ignore_index, double smoothing, Reduction reduction,
                  const char* op) {
  Tensor x = contiguous_data(logits);
  Tensor t = contiguous_data(target);
  Tensor w = weight.defined() ? contiguous_data(weight) : Tensor();
  DType dt = x.dtype();
  const int64_t positions = geo.n * geo.d;
  Tensor lse = empty(Shape{positions}, dt);
  Tensor loss = empty(geo.loss_shape, dt);
  double denominator = 1;
  Tensor out = dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    kernels::SoftmaxCeArgs<T> a;
    a.x = x.data<T>();
    a.n = geo.n;
    a.c = geo.c;
    a.d = geo.d;
    const T* pw = w.defined() ? w.data<T>() : nullptr;
    if (prob_target) {
      a.target_prob = t.data<T>();
      denominator = static_cast<double>(positions);
    } else {
      a.target_index = t.data<int64_t>();
      denominator = check_class_indices<T>(t, geo, pw, ignore_index, op);
    }
    a.weight = pw;
    a.ignore_index = ignore_index;
    a.smoothing = smoothing;
    kernels::softmax_ce_forward<T>(a, lse.data<T>(), loss.data<T>());
    if (reduction == Reduction::None) return loss;
    const T* pl = loss.data<T>();
    double s = 0;
    for (int64_t i = 0; i < positions; ++i) s += static_cast<double>(pl[i]);
    return scalar_out(reduction == Reduction::Mean ? s / denominator : s, dt);
  });
  if (autograd::any_requires_grad({&logits, &target})) {
    auto node = std::make_shared<SoftmaxCeBackward>();
    node->logits = SavedTensor(x);
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    node->lse = SavedTensor(lse);
    node->geo = geo;
    node->prob_target = prob_target;
    node->ignore_index = ignore_index;
    node->smoothing = smoothing;
    node->reduction = reduction;
    node->denominator = denominator;
    node->op = op;
    autograd::record(node, {&logits, &target}, out);
  }
  return out;
}

void check_class_weight(const Tensor& w, const Tensor& input, int64_t c, const char* op) {
  if (!w.defined()) return;
  EMBER_CHECK(w.dtype() == input.dtype(), DTypeError, op, ": weight has dtype ", dtype_name(w.dtype()),
              ", expected ", dtype_name(input.dtype()));
  EMBER_CHECK(w.dim() == 1 && w.size(0) == c, ShapeError, op, ": weight shape ", w.shape(),
              " does not match the number of classes (", c, ",)");
}

void check_index_target(const Tensor& target, const CeGeometry& geo, const Tensor& input, const char* op,
                        const char* input_name) {
  EMBER_CHECK(target.dtype() == DType::Int64, DTypeError, op, ": class-index target must be int64, got ",
              dtype_name(target.dtype()));
  EMBER_CHECK(target.shape() == geo.loss_shape, ShapeError, op, ": target shape ", target.shape(),
              " does not match ", input_name, " shape ", input.shape(), " (expected ", geo.loss_shape, ")");
}

// ---------------------------------------------------------------------------------------------------------
// nll_loss: loss = -w_t x[n, t, d];  d/dx[n, t, d] = -w_t (everything else 0).

struct NllBackward : autograd::Node {
  SavedTensor target, weight;
  Shape input_shape;
  CeGeometry geo;
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double denominator = 1;
  const char* name() const override { return "nll_loss"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& t = target.get(this);
    Tensor w = weight.defined() ? weight.get(this) : Tensor();
    DType dt = g.dtype();
    return dispatch_floating(dt, name(), [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      auto s = grad_scale<T>(g, reduction, denominator);
      Tensor dx = zeros(input_shape, dt);
      T* o = dx.data<T>();
      const int64_t* pt = t.data<int64_t>();
      const T* pw = w.defined() ? w.data<T>() : nullptr;
      for (int64_t p = 0, m = geo.n * geo.d; p < m; ++p) {
        int64_t k = pt[p];
        if (k == ignore_index) continue;
        int64_t n = p / geo.d, j = p - n * geo.d;
        o[(n * geo.c + k) * geo.d + j] = -(pw ? pw[k] : T(1)) * s(p);
      }
      return {dx, Tensor()};
    });
  }
  void release_saved() override {
    target.reset();
    weight.reset();
  }
};

// ---------------------------------------------------------------------------------------------------------
// Keras' probability forms (class axis last, rows of C):
//  categorical: r = p / sum(p), c = clip(r, eps, 1 - eps), loss = -sum y log c.
//    With G_k = -y_k [eps <= r_k <= 1 - eps] / c_k: dloss/dp_j = (G_j - sum_k G_k r_k) / sum(p).
//  sparse: c = clip(p, eps, 1 - eps), S = sum c, loss = log S - log c_t.
//    dloss/dp_k = [eps <= p_k <= 1 - eps] (1 / S - [k == t] / c_t).

template <typename T>
inline T keras_clip(T v) {
  return std::min(std::max(v, T(kKerasEpsilon)), T(1 - kKerasEpsilon));
}
template <typename T>
inline bool keras_inside(T v) {
  return v >= T(kKerasEpsilon) && v <= T(1 - kKerasEpsilon);
}

struct KerasProbBackward : autograd::Node {
  SavedTensor y_true, y_pred;
  bool sparse = false;
  int64_t rows = 0, c = 0;
  Reduction reduction = Reduction::Mean;
  const char* name() const override {
    return sparse ? "sparse_categorical_crossentropy" : "categorical_crossentropy";
  }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& y = y_true.get(this);
    const Tensor& p = y_pred.get(this);
    return dispatch_floating(p.dtype(), name(), [&](auto tag) -> std::vector<Tensor> {
      using T = decltype(tag);
      auto s = grad_scale<T>(g, reduction, static_cast<double>(rows));
      Tensor dp = empty(p.shape(), p.dtype());
      const T* pp = p.data<T>();
      T* o = dp.data<T>();
      parallel_for(0, rows, std::max<int64_t>(1, kernels::kParallelGrain / std::max<int64_t>(c, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t r = lo; r < hi; ++r) {
                       const T* x = pp + r * c;
                       T* d = o + r * c;
                       const T sr = s(r);
                       if (sparse) {
                         int64_t t = y.data<int64_t>()[r];
                         T sum = 0;
                         for (int64_t k = 0; k < c; ++k) sum += keras_clip(x[k]);
                         for (int64_t k = 0; k < c; ++k) {
                           T v = keras_inside(x[k]) ? 1 / sum : T(0);
                           if (k == t && keras_inside(x[k])) v -= 1 / keras_clip(x[k]);
                           d[k] = sr * v;
                         }
                       } else {
                         const T* yy = y.data<T>() + r * c;
                         T sum = 0;
                         for (int64_t k = 0; k < c; ++k) sum += x[k];
                         T dot = 0;
                         for (int64_t k = 0; k < c; ++k) {
                           T rk = x[k] / sum;
                           T gk = keras_inside(rk) ? -yy[k] / keras_clip(rk) : T(0);
                           d[k] = gk;
                           dot += gk * rk;
                         }
                         for (int64_t k = 0; k < c; ++k) d[k] = sr * (d[k] - dot) / sum;
                       }
                     }
                   });
      return {Tensor(), dp};
    });
  }
  void release_saved() override {
    y_true.reset();
    y_pred.reset();
  }
};

Tensor keras_prob_loss(const Tensor& y_true, const Tensor& y_pred, bool sparse, Reduction reduction,
                       const Shape& out_shape, const char* op) {
  Tensor p = contiguous_data(y_pred);
  Tensor y = contiguous_data(y_true);
  const int64_t c = p.shape().back();
  const int64_t rows = c ? p.numel() / c : 0;
  Tensor out = dispatch_floating(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pp = p.data<T>();
    return reduce_elementwise<T>(rows, out_shape, p.dtype(), reduction, [&](int64_t r) {
      const T* x = pp + r * c;
      if (sparse) {
        int64_t t = y.data<int64_t>()[r];
        T sum = 0;
        for (int64_t k = 0; k < c; ++k) sum += keras_clip(x[k]);
        return std::log(sum) - std::log(keras_clip(x[t]));
      }
      const T* yy = y.data<T>() + r * c;
      T sum = 0;
      for (int64_t k = 0; k < c; ++k) sum += x[k];
      T v = 0;
      for (int64_t k = 0; k < c; ++k) v -= yy[k] * std::log(keras_clip(x[k] / sum));
      return v;
    });
  });
  if (autograd::any_requires_grad({&y_true, &y_pred})) {
    auto node = std::make_shared<KerasProbBackward>();
    node->y_true = SavedTensor(y);
    node->y_pred = SavedTensor(p);
    node->sparse = sparse;
    node->rows = rows;
    node->c = c;
    node->reduction = reduction;
    Tensor yd = y_true.detach();  // no gradient flows to y_true
    autograd::record(node, {&yd, &y_pred}, out);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
  const char* op = "mse_loss";
  check_defined(pred, op, "pred");
  check_defined(target, op, "target");
  check_same_shape(pred, target, op, "input");
  check_float_target(pred, target, op);
  Tensor p = contiguous_data(pred), t = contiguous_data(target);
  Tensor out = dispatch_floating(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *pp = p.data<T>(), *pt = t.data<T>();
    return reduce_elementwise<T>(p.numel(), p.shape(), p.dtype(), reduction, [&](int64_t i) {
      T e = pp[i] - pt[i];
      return e * e;
    });
  });
  if (autograd::any_requires_grad({&pred, &target})) {
    auto node = std::make_shared<MseBackward>();
    node->pred = SavedTensor(p);
    node->target = SavedTensor(t);
    node->reduction = reduction;
    autograd::record(node, {&pred, &target}, out);
  }
  return out;
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
  const char* op = "binary_cross_entropy";
  check_defined(probs, op, "probs");
  check_defined(target, op, "target");
  check_same_shape(probs, target, op, "input");
  check_float_target(probs, target, op);
  Tensor p = contiguous_data(probs), t = contiguous_data(target);
  Tensor w = broadcast_constant(weight, p.shape(), p.dtype(), op, "weight");
  Tensor out = dispatch_floating(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *pp = p.data<T>(), *pt = t.data<T>(), *pw = w.defined() ? w.data<T>() : nullptr;
    return reduce_elementwise<T>(p.numel(), p.shape(), p.dtype(), reduction, [&](int64_t i) {
      T v = -(pt[i] * clamped_log<T>(pp[i]) + (1 - pt[i]) * clamped_log<T>(1 - pp[i]));
      return pw ? pw[i] * v : v;
    });
  });
  if (autograd::any_requires_grad({&probs, &target})) {
    auto node = std::make_shared<BceBackward>();
    node->probs = SavedTensor(p);
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    node->reduction = reduction;
    autograd::record(node, {&probs, &target}, out);
  }
  return out;
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_defined(logits, op, "logits");
  check_defined(target, op, "target");
  check_same_shape(logits, target, op, "input");
  check_float_target(logits, target, op);
  Tensor x = contiguous_data(logits), t = contiguous_data(target);
  Tensor w = broadcast_constant(weight, x.shape(), x.dtype(), op, "weight");
  Tensor pw = broadcast_constant(pos_weight, x.shape(), x.dtype(), op, "pos_weight");
  Tensor out = dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *px = x.data<T>(), *pt = t.data<T>();
    const T* pwt = w.defined() ? w.data<T>() : nullptr;
    const T* ppw = pw.defined() ? pw.data<T>() : nullptr;
    return reduce_elementwise<T>(x.numel(), x.shape(), x.dtype(), reduction, [&](int64_t i) {
      T lw = ppw ? 1 + (ppw[i] - 1) * pt[i] : T(1);
      T v = (1 - pt[i]) * px[i] + lw * softplus_neg(px[i]);
      return pwt ? pwt[i] * v : v;
    });
  });
  if (autograd::any_requires_grad({&logits, &target})) {
    auto node = std::make_shared<BceLogitsBackward>();
    node->logits = SavedTensor(x);
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    if (pw.defined()) node->pos_weight = SavedTensor(pw);
    node->reduction = reduction;
    autograd::record(node, {&logits, &target}, out);
  }
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  const char* op = "cross_entropy";
  check_defined(logits, op, "logits");
  check_defined(target, op, "target");
  dispatch_floating(logits.dtype(), op, [](auto) { return 0; });
  CeGeometry geo = ce_geometry(logits, op, "logits");
  const double smoothing = options.label_smoothing();
  EMBER_CHECK(smoothing >= 0.0 && smoothing <= 1.0, ValueError, op,
              ": label_smoothing must be in [0, 1], got ", smoothing);
  check_class_weight(options.weight(), logits, geo.c, op);
  const bool prob_target = target.dtype() == DType::Float32 || target.dtype() == DType::Float64;
  if (prob_target) {
    check_same_shape(logits, target, op, "logits");
    check_float_target(logits, target, op);
    EMBER_CHECK(options.ignore_index() < 0, ValueError, op,
                ": ignore_index is not supported for probability targets (got ", options.ignore_index(), ")");
  } else {
    check_index_target(target, geo, logits, op, "logits");
  }
  return softmax_ce(logits, target, options.weight(), geo, prob_target, options.ignore_index(), smoothing,
                    options.reduction(), op);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction) {
  const char* op = "nll_loss";
  check_defined(log_probs, op, "log_probs");
  check_defined(target, op, "target");
  dispatch_floating(log_probs.dtype(), op, [](auto) { return 0; });
  CeGeometry geo = ce_geometry(log_probs, op, "log_probs");
  check_class_weight(weight, log_probs, geo.c, op);
  check_index_target(target, geo, log_probs, op, "log_probs");
  Tensor x = contiguous_data(log_probs), t = contiguous_data(target);
  Tensor w = weight.defined() ? contiguous_data(weight) : Tensor();
  double denominator = 1;
  Tensor out = dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pw = w.defined() ? w.data<T>() : nullptr;
    denominator = check_class_indices<T>(t, geo, pw, ignore_index, op);
    const T* px = x.data<T>();
    const int64_t* pt = t.data<int64_t>();
    auto f = [&](int64_t p) {
      int64_t k = pt[p];
      if (k == ignore_index) return T(0);
      int64_t n = p / geo.d, j = p - n * geo.d;
      return -(pw ? pw[k] : T(1)) * px[(n * geo.c + k) * geo.d + j];
    };
    if (reduction == Reduction::None)
      return reduce_elementwise<T>(geo.n * geo.d, geo.loss_shape, x.dtype(), reduction, f);
    double s = block_sum(geo.n * geo.d, f);
    return scalar_out(reduction == Reduction::Mean ? s / denominator : s, x.dtype());
  });
  if (autograd::any_requires_grad({&log_probs})) {
    auto node = std::make_shared<NllBackward>();
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    node->input_shape = x.shape();
    node->geo = geo;
    node->ignore_index = ignore_index;
    node->reduction = reduction;
    node->denominator = denominator;
    autograd::record(node, {&log_probs}, out);
  }
  return out;
}

Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                Reduction reduction) {
  const char* op = "categorical_crossentropy";
  check_defined(y_true, op, "y_true");
  check_defined(y_pred, op, "y_pred");
  dispatch_floating(y_pred.dtype(), op, [](auto) { return 0; });
  EMBER_CHECK(y_pred.dim() >= 1, ShapeError, op, ": y_pred must have a class axis, got shape ",
              y_pred.shape());
  check_same_shape(y_pred, y_true, op, "y_pred");
  check_float_target(y_pred, y_true, op);
  Shape lead = drop_axis(y_pred.shape(), y_pred.shape().size() - 1);
  if (!from_logits) return keras_prob_loss(y_true, y_pred, false, reduction, lead, op);
  const int64_t c = y_pred.shape().back();
  CeGeometry geo;
  geo.c = c;
  geo.n = lead.numel();
  geo.loss_shape = lead;
  Tensor logits2 = reshape(y_pred, {geo.n, c});
  Tensor target2 = reshape(y_true.detach(), {geo.n, c});
  return softmax_ce(logits2, target2, Tensor(), geo, true, -100, 0.0, reduction, op);
}

Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                       Reduction reduction) {
  const char* op = "sparse_categorical_crossentropy";
  check_defined(y_true, op, "y_true");
  check_defined(y_pred, op, "y_pred");
  dispatch_floating(y_pred.dtype(), op, [](auto) { return 0; });
  EMBER_CHECK(y_pred.dim() >= 1, ShapeError, op, ": y_pred must have a class axis, got shape ",
              y_pred.shape());
  EMBER_CHECK(y_true.dtype() == DType::Int64, DTypeError, op, ": y_true must hold int64 class indices, got ",
              dtype_name(y_true.dtype()));
  Shape lead = drop_axis(y_pred.shape(), y_pred.shape().size() - 1);
  Tensor labels = y_true;
  if (labels.dim() == y_pred.dim() && labels.dim() >= 1 && labels.shape().back() == 1)
    labels = reshape(labels, lead);
  EMBER_CHECK(labels.shape() == lead, ShapeError, op, ": y_true shape ", y_true.shape(),
              " does not match y_pred shape ", y_pred.shape(), " (expected ", lead, " or with a trailing 1)");
  const int64_t c = y_pred.shape().back();
  CeGeometry geo;
  geo.c = c;
  geo.n = lead.numel();
  geo.loss_shape = lead;
  Tensor lc = contiguous_data(labels);
  check_class_indices<double>(lc, geo, nullptr, std::numeric_limits<int64_t>::min(), op);
  if (!from_logits) return keras_prob_loss(lc, y_pred, true, reduction, lead, op);
  Tensor logits2 = reshape(y_pred, {geo.n, c});
  return softmax_ce(logits2, reshape(lc, {geo.n}), Tensor(), geo, false, std::numeric_limits<int64_t>::min(),
                    0.0, reduction, op);
}

}  // namespace ember
