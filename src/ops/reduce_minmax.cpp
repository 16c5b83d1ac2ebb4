// Max/min along an axis (values; the gradient goes to the first argmax/argmin), global max/min (the gradient
// is shared evenly among tied maxima, like PyTorch), variance, and argmax/argmin. Kernels: kernels/index.h.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/index.h"
#include "ember/kernels/loops.h"
#include "ember/ops/ops.h"
#include "ember/ops/reduce_util.h"

namespace ember {

namespace {

// A contiguous tensor viewed with another shape of the same size (no autograd).
Tensor reshaped(const Tensor& t, const Shape& shape) {
  Tensor c = contiguous_data(t);
  return as_strided(c, shape, contiguous_strides(shape), c.offset());
}

struct MinMaxAxisResult {
  Tensor values, indices;  // keepdim shapes
  int64_t axis;
};

MinMaxAxisResult minmax_axis(const Tensor& x, int64_t axis_in, bool is_max, const char* op) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  EMBER_CHECK(x.dim() > 0, IndexError, op, ": cannot reduce a 0-dimensional tensor along axis ", axis_in);
  int64_t axis = normalize_axis(axis_in, x.dim(), op);
  EMBER_CHECK(x.shape()[axis] > 0, ValueError, op, ": cannot reduce the empty axis ", axis_in, " of shape ",
              x.shape());
  EMBER_CHECK(x.dtype() != DType::Bool, DTypeError, op, ": expected a numeric tensor, got bool");
  Shape ks = keepdim_shape(x.shape(), {axis});
  MinMaxAxisResult r{empty(ks, x.dtype()), empty(ks, DType::Int64), axis};
  kernels::minmax_axis(x, axis, is_max, r.values, r.indices);
  return r;
}

// d max / dx: the gradient scattered to the chosen index of every reduced slice.
struct MinMaxAxisBackward : autograd::Node {
  Tensor indices;  // int64, keepdim shape (not a graph tensor: nothing can modify it in place)
  Shape input_shape;
  int64_t axis = 0;
  const char* op = "max";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor dx = zeros(input_shape, g.dtype());
    kernels::scatter_add(reshaped(g, indices.shape()), axis, indices, dx);
    return {dx};
  }
  void release_saved() override { indices = Tensor(); }
};

Tensor minmax_values(const Tensor& x, int64_t axis_in, bool keepdim, bool is_max) {
  const char* op = is_max ? "max" : "min";
  MinMaxAxisResult r = minmax_axis(x, axis_in, is_max, op);
  Tensor out = keepdim ? r.values : reshaped(r.values, dropdim_shape(x.shape(), {r.axis}));
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<MinMaxAxisBackward>();
    n->indices = r.indices;
    n->input_shape = x.shape();
    n->axis = r.axis;
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}

// Global max/min: every element equal to the result shares the gradient equally (torch's
// evenly_distribute_backward); with a unique extremum this is the one-hot gradient.
struct MinMaxAllBackward : autograd::Node {
  SavedTensor x;
  double value = 0;
  const char* op = "max";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor xc = contiguous_data(x.get(this));
    Tensor dx = empty(xc.shape(), g.dtype());
    dispatch_floating(xc.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const T* px = xc.data<T>();
      T* pd = dx.data<T>();
      const int64_t n = xc.numel();
      const T v = static_cast<T>(value);
      const bool nan = std::isnan(value);
      int64_t count = 0;
      for (int64_t i = 0; i < n; ++i) count += nan ? px[i] != px[i] : px[i] == v;
      const T share = static_cast<T>(contiguous_data(g).data<T>()[0] / static_cast<double>(count));
      for (int64_t i = 0; i < n; ++i) pd[i] = (nan ? px[i] != px[i] : px[i] == v) ? share : T(0);
    });
    return {dx};
  }
  void release_saved() override { x.reset(); }
};

Tensor minmax_all(const Tensor& x, bool is_max) {
  const char* op = is_max ? "max" : "min";
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  EMBER_CHECK(x.numel() > 0, ValueError, op, ": cannot reduce an empty tensor of shape ", x.shape());
  EMBER_CHECK(x.dtype() != DType::Bool, DTypeError, op, ": expected a numeric tensor, got bool");
  Tensor xc = contiguous_data(x);
  int64_t at = kernels::minmax_all_index(xc, is_max);
  Tensor out = copy_as(as_strided(xc, Shape{}, Shape{}, xc.offset() + at), x.dtype());
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<MinMaxAllBackward>();
    n->x = SavedTensor(x);
    n->value = out.item();
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor arg_minmax(const Tensor& x, int64_t axis_in, bool keepdim, bool is_max) {
  MinMaxAxisResult r = minmax_axis(x, axis_in, is_max, is_max ? "argmax" : "argmin");
  return keepdim ? r.indices : reshaped(r.indices, dropdim_shape(x.shape(), {r.axis}));
}

// d var / dx = 2 (x - mean) / (n - ddof), broadcast over the reduced axes.
struct VarBackward : autograd::Node {
  SavedTensor x;
  Tensor mean;  // keepdim shape, internal
  double scale = 1.0;
  const char* name() const override { return "var"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& xv = x.get(this);
    Tensor gk = reshaped(g, mean.shape());
    const double s = scale;
    Tensor dx = dispatch_floating(xv.dtype(), "var", [&](auto tag) {
      using T = decltype(tag);
      return kernels::map3<T, T, T, T>(xv, mean, gk, xv.dtype(), "var",
                                       [s](T a, T m, T gg) { return static_cast<T>(s * gg * (a - m)); });
    });
    return {dx};
  }
  void release_saved() override {
    x.reset();
    mean = Tensor();
  }
};

}  // namespace

Tensor max(const Tensor& x, int64_t axis, bool keepdim) {
  return minmax_values(x, axis, keepdim, true);
}
Tensor min(const Tensor& x, int64_t axis, bool keepdim) {
  return minmax_values(x, axis, keepdim, false);
}
Tensor max(const Tensor& x) {
  return minmax_all(x, true);
}
Tensor min(const Tensor& x) {
  return minmax_all(x, false);
}
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  return arg_minmax(x, axis, keepdim, true);
}
Tensor argmin(const Tensor& x, int64_t axis, bool keepdim) {
  return arg_minmax(x, axis, keepdim, false);
}

Tensor var(const Tensor& x, const Axes& axes_in, bool unbiased, bool keepdim) {
  EMBER_CHECK(x.defined(), ValueError, "var: undefined tensor");
  dispatch_floating(x.dtype(), "var", [](auto) {});
  // A 0-d tensor is treated as one element along a single axis.
  Tensor xv = x.dim() == 0 ? as_strided(x, Shape{1}, Shape{1}, x.offset()) : x;
  std::vector<int64_t> axes = normalize_axes(axes_in, xv.dim(), "var");
  int64_t count = 1;
  for (int64_t a : axes) count *= xv.shape()[a];
  EMBER_CHECK(count > 0, ValueError, "var: cannot take the variance over an empty axis of shape ", x.shape());
  const int64_t rank = xv.dim(), k = static_cast<int64_t>(axes.size());
  const int64_t ddof = unbiased ? 1 : 0;
  Shape ks = keepdim_shape(xv.shape(), axes);
  Tensor out, mean;
  if (axes.back() - axes.front() + 1 == k) {
    out = empty(ks, x.dtype());
    mean = empty(ks, x.dtype());
    kernels::var_axes(xv, axes.front(), axes.back(), ddof, out, mean);
  } else {
    // Move the reduced axes last (kept axes keep their order), so that they form one block.
    Shape order, shape, strides;
    for (int64_t d = 0; d < rank; ++d)
      if (std::find(axes.begin(), axes.end(), d) == axes.end()) order.push_back(d);
    for (int64_t a : axes) order.push_back(a);
    for (int64_t d : order) {
      shape.push_back(xv.shape()[d]);
      strides.push_back(xv.strides()[d]);
    }
    Tensor xp = as_strided(xv, shape, strides, xv.offset());
    Shape ps = shape;
    for (int64_t d = rank - k; d < rank; ++d) ps[d] = 1;
    out = empty(ps, x.dtype());
    mean = empty(ps, x.dtype());
    kernels::var_axes(xp, rank - k, rank - 1, ddof, out, mean);
    out = reshaped(out, ks);
    mean = reshaped(mean, ks);
  }
  Shape final_shape = x.dim() == 0 ? Shape{} : (keepdim ? ks : dropdim_shape(xv.shape(), axes));
  out = reshaped(out, final_shape);
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<VarBackward>();
    n->x = SavedTensor(x);
    n->mean = x.dim() == 0 ? reshaped(mean, Shape{}) : mean;
    n->scale = 2.0 / static_cast<double>(count - ddof);
    autograd::record(n, {&x}, out);
  }
  return out;
}

}  // namespace ember
