// Unary elementwise ops (pow, exp, log, sqrt, abs, square, clamp) and the broadcasting maximum/minimum, each
// forward next to its backward. Backward formulas are fused single-pass kernels (map2/map3) rather than
// chains of ops: one read of each operand, one write. Gradient conventions follow PyTorch 1.13 at kinks and
// ties.
#include <cmath>
#include <type_traits>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/activation.h"
#include "ember/kernels/loops.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

// y = f(x) elementwise; float32/float64 only.
template <typename F>
Tensor unary(const Tensor& x, const char* op, F f) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  return dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

// y = fast(x) with a kernels:: array function (vectorised float32 polynomial, std:: for float64).
template <typename FastF>
Tensor unary_fast(const Tensor& x, const char* op, FastF fast) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  return dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor xc = contiguous_data(x);
    Tensor out = empty(x.shape(), x.dtype());
    if constexpr (std::is_same_v<T, float>) {
      fast(xc.data<float>(), out.data<float>(), x.numel());
    } else {
      fast(xc.data<double>(), out.data<double>(), x.numel());
    }
    return out;
  });
}

// dx = h(g, s) with s a saved tensor of g's shape.
template <typename H>
Tensor grad_map(const Tensor& g, const Tensor& s, const char* op, H h) {
  return dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map2<T, T, T>(g, s, g.dtype(), op, [h](T a, T b) { return static_cast<T>(h(a, b)); });
  });
}

template <typename H>
Tensor grad_map3(const Tensor& g, const Tensor& a, const Tensor& b, const char* op, H h) {
  return dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map3<T, T, T, T>(g, a, b, g.dtype(), op,
                                     [h](T u, T v, T w) { return static_cast<T>(h(u, v, w)); });
  });
}

// One saved tensor (input or output) and a fused gradient formula dx = h(g, saved).
template <typename H>
struct SavedUnaryBackward : autograd::Node {
  SavedTensor saved;
  const char* op;
  H h;
  SavedUnaryBackward(const char* op_, H h_) : op(op_), h(h_) {}
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override { return {grad_map(g, saved.get(this), op, h)}; }
  void release_saved() override { saved.reset(); }
};

// Records a SavedUnaryBackward when x needs a gradient; save_output: save `out` rather than `x`.
template <typename H>
Tensor record_unary(const Tensor& x, Tensor out, const char* op, bool save_output, H h) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<SavedUnaryBackward<H>>(op, h);
    n->saved = save_output ? SavedTensor(out, true) : SavedTensor(x);
    autograd::record(n, {&x}, out);
  }
  return out;
}

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  EMBER_CHECK(a.defined() && b.defined(), ValueError, op, ": undefined tensor");
  EMBER_CHECK(a.dtype() == b.dtype(), DTypeError, op, ": operands have different dtypes ",
              dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), "; convert one with ember::to()");
}

struct PowTensorBackward : autograd::Node {
  SavedTensor x, e;
  const char* name() const override { return "pow"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& xv = x.get(this);
    const Tensor& ev = e.get(this);
    Tensor gx, ge;
    // d/dx = e x^(e-1) (0 where e == 0); d/de = x^e ln x (0 where x == 0 and e >= 0), as in PyTorch.
    if (next_edges[0].fn)
      gx = sum_to(grad_map3(g, xv, ev, "pow",
                            [](auto gg, auto a, auto b) {
                              return b == 0 ? decltype(gg)(0) : gg * b * std::pow(a, b - 1);
                            }),
                  xv.shape());
    if (next_edges[1].fn)
      ge = sum_to(grad_map3(g, xv, ev, "pow",
                            [](auto gg, auto a, auto b) {
                              return (a == 0 && b >= 0) ? decltype(gg)(0) : gg * std::pow(a, b) * std::log(a);
                            }),
                  ev.shape());
    return {gx, ge};
  }
  void release_saved() override {
    x.reset();
    e.reset();
  }
};

// maximum/minimum: the gradient goes to the larger (smaller) operand; a tie gives each half (PyTorch 1.13).
struct ExtremumBackward : autograd::Node {
  SavedTensor a, b;
  bool is_max = true;
  const char* name() const override { return is_max ? "maximum" : "minimum"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& av = a.get(this);
    const Tensor& bv = b.get(this);
    Tensor ga, gb;
    const bool mx = is_max;
    if (next_edges[0].fn)
      ga = sum_to(grad_map3(g, av, bv, name(),
                            [mx](auto gg, auto p, auto q) {
                              using T = decltype(gg);
                              return (mx ? p < q : p > q) ? T(0) : (p == q ? gg * T(0.5) : gg);
                            }),
                  av.shape());
    if (next_edges[1].fn)
      gb = sum_to(grad_map3(g, av, bv, name(),
                            [mx](auto gg, auto p, auto q) {
                              using T = decltype(gg);
                              return (mx ? p > q : p < q) ? T(0) : (p == q ? gg * T(0.5) : gg);
                            }),
                  bv.shape());
    return {ga, gb};
  }
  void release_saved() override {
    a.reset();
    b.reset();
  }
};

Tensor extremum(const Tensor& a, const Tensor& b, bool is_max) {
  const char* op = is_max ? "maximum" : "minimum";
  check_pair(a, b, op);
  Tensor out = dispatch_floating(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // NaN in either operand propagates.
    if (is_max)
      return kernels::map2<T, T, T>(a, b, a.dtype(), op, [](T p, T q) { return (p != p || p > q) ? p : q; });
    return kernels::map2<T, T, T>(a, b, a.dtype(), op, [](T p, T q) { return (p != p || p < q) ? p : q; });
  });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<ExtremumBackward>();
    n->a = SavedTensor(a);
    n->b = SavedTensor(b);
    n->is_max = is_max;
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

}  // namespace

Tensor pow(const Tensor& x, double e) {
  Tensor out;
  if (e == 2.0)
    out = unary(x, "pow", [](auto v) { return v * v; });
  else if (e == 1.0)
    out = unary(x, "pow", [](auto v) { return v; });
  else if (e == 0.5)
    out = unary(x, "pow", [](auto v) { return std::sqrt(v); });
  else if (e == -1.0)
    out = unary(x, "pow", [](auto v) { return decltype(v)(1) / v; });
  else if (e == 3.0)
    out = unary(x, "pow", [](auto v) { return v * v * v; });
  else
    out = unary(x, "pow", [e](auto v) { return std::pow(v, static_cast<decltype(v)>(e)); });
  // d/dx x^e = e x^(e-1); an exponent of 0 gives a zero gradient everywhere (PyTorch), not 0 * inf.
  return record_unary(x, out, "pow", false, [e](auto g, auto v) {
    using T = decltype(g);
    if (e == 0.0) return T(0);
    if (e == 2.0) return g * T(2) * v;
    return g * static_cast<T>(e) * std::pow(v, static_cast<T>(e - 1.0));
  });
}

Tensor pow(const Tensor& x, const Tensor& e) {
  check_pair(x, e, "pow");
  Tensor out = dispatch_floating(x.dtype(), "pow", [&](auto tag) {
    using T = decltype(tag);
    return kernels::map2<T, T, T>(x, e, x.dtype(), "pow", [](T a, T b) { return std::pow(a, b); });
  });
  if (autograd::any_requires_grad({&x, &e})) {
    auto n = std::make_shared<PowTensorBackward>();
    n->x = SavedTensor(x);
    n->e = SavedTensor(e);
    autograd::record(n, {&x, &e}, out);
  }
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_fast(x, "exp", [](auto* a, auto* b, int64_t n) { kernels::exp(a, b, n); });
  return record_unary(x, out, "exp", true, [](auto g, auto y) { return g * y; });
}

Tensor log(const Tensor& x) {
  Tensor out = unary_fast(x, "log", [](auto* a, auto* b, int64_t n) { kernels::log(a, b, n); });
  return record_unary(x, out, "log", false, [](auto g, auto v) { return g / v; });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary(x, "sqrt", [](auto v) { return std::sqrt(v); });
  return record_unary(x, out, "sqrt", true, [](auto g, auto y) { return g / (decltype(g)(2) * y); });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary(x, "abs", [](auto v) { return std::abs(v); });
  // sign(x), 0 at 0 (PyTorch's sgn).
  return record_unary(x, out, "abs", false, [](auto g, auto v) {
    using T = decltype(g);
    return v > T(0) ? g : (v < T(0) ? -g : T(0));
  });
}

Tensor square(const Tensor& x) {
  Tensor out = unary(x, "square", [](auto v) { return v * v; });
  return record_unary(x, out, "square", false, [](auto g, auto v) { return decltype(g)(2) * v * g; });
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  EMBER_CHECK(min || max, ValueError, "clamp: at least one of min and max must be given");
  const double lo = min ? *min : -INFINITY, hi = max ? *max : INFINITY;
  // min(max(x, lo), hi) like PyTorch: NaN stays NaN, and lo > hi gives hi everywhere.
  Tensor out = unary(x, "clamp", [lo, hi](auto v) {
    using T = decltype(v);
    T r = v < static_cast<T>(lo) ? static_cast<T>(lo) : v;
    return r > static_cast<T>(hi) ? static_cast<T>(hi) : r;
  });
  // The gradient passes where lo <= x <= hi (bounds included, as in PyTorch).
  return record_unary(x, out, "clamp", false, [lo, hi](auto g, auto v) {
    using T = decltype(g);
    return (v >= static_cast<T>(lo) && v <= static_cast<T>(hi)) ? g : T(0);
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, true);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, false);
}

}  // namespace ember
