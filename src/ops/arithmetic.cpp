// Broadcasting arithmetic: add, sub, mul, div (tensor and scalar forms) and neg, each forward next to its
// backward. A broadcast operand's gradient is summed back to its own shape with sum_to.
#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

DType common_floating(const Tensor& a, const Tensor& b, const char* op) {
  EMBER_CHECK(a.defined() && b.defined(), ValueError, op, ": undefined tensor");
  EMBER_CHECK(a.dtype() == b.dtype(), DTypeError, op, ": operands have different dtypes ", dtype_name(a.dtype()),
              " and ", dtype_name(b.dtype()), "; convert one with ember::to()");
  return a.dtype();
}

template <typename F>
Tensor binary_forward(const Tensor& a, const Tensor& b, const char* op, F f) {
  DType dt = common_floating(a, b, op);
  return dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map2<T, T, T>(a, b, dt, op, [f](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

template <typename F>
Tensor scalar_forward(const Tensor& a, const char* op, F f) {
  return dispatch_floating(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map1<T, T>(a, a.dtype(), [f](T x) { return static_cast<T>(f(x)); });
  });
}

struct AddBackward : autograd::Node {
  Shape a_shape, b_shape;
  double alpha = 1.0;  // d/db = alpha (1 for add, -1 for sub)
  const char* name() const override { return alpha == 1.0 ? "add" : "sub"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gb;
    if (next_edges[1].fn) gb = sum_to(alpha == 1.0 ? g : neg(g), b_shape);
    return {next_edges[0].fn ? sum_to(g, a_shape) : Tensor(), gb};
  }
};

struct MulBackward : autograd::Node {
  SavedTensor a, b;
  const char* name() const override { return "mul"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor ga, gb;
    if (next_edges[0].fn) ga = sum_to(mul(g, b.get(this)), a.get(this).shape());
    if (next_edges[1].fn) gb = sum_to(mul(g, a.get(this)), b.get(this).shape());
    return {ga, gb};
  }
  void release_saved() override {
    a.reset();
    b.reset();
  }
};

struct DivBackward : autograd::Node {
  SavedTensor a, b;
  const char* name() const override { return "div"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& x = a.get(this);
    const Tensor& y = b.get(this);
    Tensor ga, gb;
    if (next_edges[0].fn) ga = sum_to(div(g, y), x.shape());
    if (next_edges[1].fn) gb = sum_to(neg(div(mul(g, x), mul(y, y))), y.shape());
    return {ga, gb};
  }
  void release_saved() override {
    a.reset();
    b.reset();
  }
};

// Scalar forms: out = x * scale + shift style ops whose gradient is g * factor.
struct ScaleBackward : autograd::Node {
  double factor = 1.0;
  const char* op = "add";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override { return {factor == 1.0 ? g : mul(g, factor)}; }
};

struct RDivBackward : autograd::Node {
  SavedTensor b, out;
  const char* name() const override { return "div"; }
  // d(a/b)/db = -a/b^2 = -out/b
  std::vector<Tensor> apply(const Tensor& g) override { return {neg(div(mul(g, out.get(this)), b.get(this)))}; }
  void release_saved() override {
    b.reset();
    out.reset();
  }
};

Tensor scaled(const Tensor& x, Tensor out, double factor, const char* op) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<ScaleBackward>();
    n->factor = factor;
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "add", [](auto x, auto y) { return x + y; });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<AddBackward>();
    n->a_shape = a.shape();
    n->b_shape = b.shape();
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "sub", [](auto x, auto y) { return x - y; });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<AddBackward>();
    n->a_shape = a.shape();
    n->b_shape = b.shape();
    n->alpha = -1.0;
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "mul", [](auto x, auto y) { return x * y; });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<MulBackward>();
    n->a = SavedTensor(a);
    n->b = SavedTensor(b);
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "div", [](auto x, auto y) { return x / y; });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<DivBackward>();
    n->a = SavedTensor(a);
    n->b = SavedTensor(b);
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

Tensor add(const Tensor& a, double b) {
  return scaled(a, scalar_forward(a, "add", [b](auto x) { return x + b; }), 1.0, "add");
}
Tensor sub(const Tensor& a, double b) {
  return scaled(a, scalar_forward(a, "sub", [b](auto x) { return x - b; }), 1.0, "sub");
}
Tensor mul(const Tensor& a, double b) {
  return scaled(a, scalar_forward(a, "mul", [b](auto x) { return x * b; }), b, "mul");
}
Tensor div(const Tensor& a, double b) {
  double inv = 1.0 / b;
  return scaled(a, scalar_forward(a, "div", [b](auto x) { return x / b; }), inv, "div");
}
Tensor rsub(double a, const Tensor& b) {
  return scaled(b, scalar_forward(b, "sub", [a](auto x) { return a - x; }), -1.0, "sub");
}
Tensor neg(const Tensor& x) {
  return scaled(x, scalar_forward(x, "neg", [](auto v) { return -v; }), -1.0, "neg");
}
Tensor rdiv(double a, const Tensor& b) {
  Tensor out = scalar_forward(b, "div", [a](auto x) { return a / x; });
  if (autograd::any_requires_grad({&b})) {
    auto n = std::make_shared<RDivBackward>();
    n->b = SavedTensor(b);
    n->out = SavedTensor(out, true);
    autograd::record(n, {&b}, out);
  }
  return out;
}

}  // namespace ember
