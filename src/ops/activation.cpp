// Activations: relu, leaky_relu, sigmoid, tanh, gelu, softmax, log_softmax, each forward next to its
// backward. sigmoid, tanh and softmax save their output (the derivative is a function of it); relu saves its
// output too (y > 0 is the mask); leaky_relu and gelu save their input. The float32 transcendental work runs
// in the vectorised kernels of src/kernels/cpu/activation.cpp.
#include "ember/kernels/activation.h"

#include <cmath>
#include <string>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/kernels/reduce.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

template <typename F>
Tensor map_float(const Tensor& x, const char* op, F f) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  return dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

// out = fast(x) through a kernels:: array function (float32 and float64 overloads).
template <typename FastF>
Tensor map_fast(const Tensor& x, const char* op, FastF fast) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  return dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor xc = contiguous_data(x);
    Tensor out = empty(x.shape(), x.dtype());
    fast(xc.template data<T>(), out.template data<T>(), x.numel());
    return out;
  });
}

template <typename H>
struct ActBackward : autograd::Node {
  SavedTensor saved;
  const char* op;
  H h;
  ActBackward(const char* op_, H h_) : op(op_), h(h_) {}
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& s = saved.get(this);
    return {dispatch_floating(g.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      return kernels::map2<T, T, T>(g, s, g.dtype(), op,
                                    [this](T a, T b) { return static_cast<T>(h(a, b)); });
    })};
  }
  void release_saved() override { saved.reset(); }
};

template <typename H>
Tensor record_act(const Tensor& x, Tensor out, const char* op, bool save_output, H h) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<ActBackward<H>>(op, h);
    n->saved = save_output ? SavedTensor(out, true) : SavedTensor(x);
    autograd::record(n, {&x}, out);
  }
  return out;
}

struct GeluBackward : autograd::Node {
  SavedTensor x;
  bool tanh_approx = false;
  const char* name() const override { return "gelu"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor xc = contiguous_data(x.get(this));
    Tensor gc = contiguous_data(g);
    Tensor dx = empty(xc.shape(), xc.dtype());
    dispatch_floating(xc.dtype(), "gelu", [&](auto tag) {
      using T = decltype(tag);
      kernels::gelu_backward(xc.data<T>(), gc.data<T>(), dx.data<T>(), xc.numel(), tanh_approx);
    });
    return {dx};
  }
  void release_saved() override { x.reset(); }
};

// Normalises a softmax axis; a 0-d tensor is treated as one element along axis 0 or -1 (like PyTorch).
int64_t softmax_axis(const Tensor& x, int64_t axis, const char* op) {
  const int64_t rank = std::max<int64_t>(x.dim(), 1);
  EMBER_CHECK(axis >= -rank && axis < rank, IndexError, op, ": axis ", axis,
              " is out of range for a tensor of shape ", x.shape().to_string(), " (expected -", rank,
              " <= axis < ", rank, ")");
  return axis < 0 ? axis + rank : axis;
}

void softmax_geometry(const Tensor& x, int64_t axis, int64_t& outer, int64_t& n, int64_t& inner) {
  if (x.dim() == 0) {
    outer = n = inner = 1;
    return;
  }
  kernels::split_around(x.shape(), axis, outer, n, inner);
}

struct SoftmaxBackward : autograd::Node {
  SavedTensor y;
  int64_t axis = -1;
  bool log = false;
  const char* name() const override { return log ? "log_softmax" : "softmax"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& yv = y.get(this);
    Tensor gc = contiguous_data(g);
    Tensor dx = empty(yv.shape(), yv.dtype());
    int64_t outer, n, inner;
    softmax_geometry(yv, axis, outer, n, inner);
    dispatch_floating(yv.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      kernels::softmax_backward<T>(yv.data<T>(), gc.data<T>(), dx.data<T>(), outer, n, inner, log);
    });
    return {dx};
  }
  void release_saved() override { y.reset(); }
};

Tensor softmax_impl(const Tensor& x, int64_t axis_in, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  const int64_t axis = softmax_axis(x, axis_in, op);
  Tensor out = dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor xc = contiguous_data(x);
    Tensor y = empty(x.shape(), x.dtype());
    int64_t outer, n, inner;
    softmax_geometry(x, axis, outer, n, inner);
    kernels::softmax<T>(xc.data<T>(), y.data<T>(), outer, n, inner, log);
    return y;
  });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<SoftmaxBackward>();
    node->y = SavedTensor(out, true);
    node->axis = axis;
    node->log = log;
    autograd::record(node, {&x}, out);
  }
  return out;
}

}  // namespace

Tensor relu(const Tensor& x) {
  // v < 0 ? 0 : v keeps NaN (a NaN input is not < 0).
  Tensor out = map_float(x, "relu", [](auto v) { return v < decltype(v)(0) ? decltype(v)(0) : v; });
  // The gradient is 0 at x == 0, as in PyTorch.
  return record_act(x, out, "relu", true,
                    [](auto g, auto y) { return y > decltype(g)(0) ? g : decltype(g)(0); });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor out = map_float(x, "leaky_relu", [negative_slope](auto v) {
    return v > decltype(v)(0) ? v : v * static_cast<decltype(v)>(negative_slope);
  });
  return record_act(x, out, "leaky_relu", false, [negative_slope](auto g, auto v) {
    return v > decltype(g)(0) ? g : g * static_cast<decltype(g)>(negative_slope);
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = map_fast(x, "sigmoid", [](auto* a, auto* b, int64_t n) { kernels::sigmoid(a, b, n); });
  return record_act(x, out, "sigmoid", true, [](auto g, auto y) { return g * y * (decltype(g)(1) - y); });
}

Tensor tanh(const Tensor& x) {
  Tensor out = map_fast(x, "tanh", [](auto* a, auto* b, int64_t n) { kernels::tanh(a, b, n); });
  return record_act(x, out, "tanh", true, [](auto g, auto y) { return g * (decltype(g)(1) - y * y); });
}

Tensor softmax(const Tensor& x, int64_t axis) {
  return softmax_impl(x, axis, false);
}
Tensor log_softmax(const Tensor& x, int64_t axis) {
  return softmax_impl(x, axis, true);
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "gelu: approximate must be \"none\" or ", "\"tanh\", got \"", approximate, "\"");
  const bool approx = approximate == "tanh";
  Tensor out = map_fast(x, "gelu", [approx](auto* a, auto* b, int64_t n) { kernels::gelu(a, b, n, approx); });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<GeluBackward>();
    node->x = SavedTensor(x);
    node->tanh_approx = approx;
    autograd::record(node, {&x}, out);
  }
  return out;
}

}  // namespace ember
