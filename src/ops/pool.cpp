// Pooling: max_pool2d (gradient to the argmax), avg_pool2d, adaptive_avg_pool2d, global_avg_pool1d.
// Inputs are (N, C, H, W) or (C, H, W); every (n, c) plane is pooled independently.
#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/conv.h"
#include "ember/ops/conv.h"

namespace ember {

namespace {

// PyTorch's pooling_output_shape for one dimension.
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  int64_t num = in + 2 * p - (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

kernels::Pool2dGeom pool_geometry(const Tensor& x, Pair kernel, std::optional<Pair> stride, Pair padding,
                                  bool ceil_mode, const char* op) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined input");
  EMBER_CHECK(x.dim() == 4 || x.dim() == 3, ShapeError, op,
              ": expected input of rank 4 (N, C, H, W) or 3, got shape ", x.shape());
  Pair s = stride.value_or(kernel);
  EMBER_CHECK(kernel[0] >= 1 && kernel[1] >= 1 && s[0] >= 1 && s[1] >= 1, ValueError, op,
              ": kernel and stride must be >= 1, got kernel (", kernel[0], ", ", kernel[1], ") stride (",
              s[0], ", ", s[1], ")");
  EMBER_CHECK(
      padding[0] >= 0 && padding[1] >= 0 && 2 * padding[0] <= kernel[0] && 2 * padding[1] <= kernel[1],
      ValueError, op, ": padding (", padding[0], ", ", padding[1],
      ") must be non-negative and at most half the kernel (", kernel[0], ", ", kernel[1], ")");
  kernels::Pool2dGeom g;
  g.h = x.size(-2), g.w = x.size(-1);
  g.planes = x.numel() / std::max<int64_t>(g.h * g.w, 1);
  g.kh = kernel[0], g.kw = kernel[1], g.sh = s[0], g.sw = s[1], g.ph = padding[0], g.pw = padding[1];
  g.oh = pooled_size(g.h, g.kh, g.sh, g.ph, ceil_mode);
  g.ow = pooled_size(g.w, g.kw, g.sw, g.pw, ceil_mode);
  EMBER_CHECK(g.oh >= 1 && g.ow >= 1, ShapeError, op, ": kernel (", g.kh, ", ", g.kw,
              ") is larger than the padded input; input shape ", x.shape());
  return g;
}

Shape pooled_shape(const Tensor& x, int64_t oh, int64_t ow) {
  Shape s = x.shape();
  s[s.size() - 2] = oh;
  s[s.size() - 1] = ow;
  return s;
}

struct MaxPool2dBackward : autograd::Node {
  kernels::Pool2dGeom geom;
  // int32 argmax indices, in an int64 tensor of half the size so that they come from the caching allocator (a
  // fresh malloc of this size costs page faults every step). Owned by the node, so no version check.
  Tensor argmax;
  Shape input_shape;
  const char* name() const override { return "max_pool2d"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor g = contiguous_data(grad);
    Tensor dx = empty(input_shape, g.dtype());
    dispatch_floating(g.dtype(), "max_pool2d", [&](auto tag) {
      using T = decltype(tag);
      kernels::max_pool2d_backward<T>(geom, g.data<T>(), static_cast<const int32_t*>(argmax.raw_data()),
                                      dx.data<T>());
    });
    return {dx};
  }
  void release_saved() override { argmax = Tensor(); }
};

struct AvgPool2dBackward : autograd::Node {
  kernels::Pool2dGeom geom;
  bool count_include_pad = true, adaptive = false;
  Shape input_shape;
  const char* name() const override { return adaptive ? "adaptive_avg_pool2d" : "avg_pool2d"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor g = contiguous_data(grad);
    Tensor dx = empty(input_shape, g.dtype());
    dispatch_floating(g.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      if (adaptive)
        kernels::adaptive_avg_pool2d_backward<T>(geom, g.data<T>(), dx.data<T>());
      else
        kernels::avg_pool2d_backward<T>(geom, count_include_pad, g.data<T>(), dx.data<T>());
    });
    return {dx};
  }
};

}  // namespace

Tensor max_pool2d(const Tensor& x, Pair kernel, std::optional<Pair> stride, Pair padding, bool ceil_mode) {
  kernels::Pool2dGeom g = pool_geometry(x, kernel, stride, padding, ceil_mode, "max_pool2d");
  Tensor xc = contiguous_data(x);
  Tensor out = empty(pooled_shape(x, g.oh, g.ow), x.dtype());
  const bool grad = autograd::any_requires_grad({&x});
  Tensor argmax = grad ? empty({(out.numel() + 1) / 2}, DType::Int64) : Tensor();
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::max_pool2d_forward<T>(g, xc.data<T>(), out.data<T>(),
                                   grad ? static_cast<int32_t*>(argmax.raw_data()) : nullptr);
  });
  if (grad) {
    auto n = std::make_shared<MaxPool2dBackward>();
    n->geom = g;
    n->argmax = argmax;
    n->input_shape = x.shape();
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor avg_pool2d(const Tensor& x, Pair kernel, std::optional<Pair> stride, Pair padding, bool ceil_mode,
                  bool count_include_pad) {
  kernels::Pool2dGeom g = pool_geometry(x, kernel, stride, padding, ceil_mode, "avg_pool2d");
  Tensor xc = contiguous_data(x);
  Tensor out = empty(pooled_shape(x, g.oh, g.ow), x.dtype());
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::avg_pool2d_forward<T>(g, count_include_pad, xc.data<T>(), out.data<T>());
  });
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<AvgPool2dBackward>();
    n->geom = g;
    n->count_include_pad = count_include_pad;
    n->input_shape = x.shape();
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& x, Pair out_hw) {
  EMBER_CHECK(x.defined(), ValueError, "adaptive_avg_pool2d: undefined input");
  EMBER_CHECK(x.dim() == 4 || x.dim() == 3, ShapeError,
              "adaptive_avg_pool2d: expected input of rank 4 (N, C, H, W) or 3, got shape ", x.shape());
  EMBER_CHECK(out_hw[0] >= 1 && out_hw[1] >= 1, ValueError,
              "adaptive_avg_pool2d: output size must be >= 1, got (", out_hw[0], ", ", out_hw[1], ")");
  kernels::Pool2dGeom g;
  g.h = x.size(-2), g.w = x.size(-1);
  EMBER_CHECK(g.h >= 1 && g.w >= 1, ShapeError, "adaptive_avg_pool2d: empty spatial input ", x.shape());
  g.planes = x.numel() / (g.h * g.w);
  g.oh = out_hw[0], g.ow = out_hw[1];
  Tensor xc = contiguous_data(x);
  Tensor out = empty(pooled_shape(x, g.oh, g.ow), x.dtype());
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::adaptive_avg_pool2d_forward<T>(g, xc.data<T>(), out.data<T>());
  });
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<AvgPool2dBackward>();
    n->geom = g;
    n->adaptive = true;
    n->input_shape = x.shape();
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor global_avg_pool1d(const Tensor& x) {
  EMBER_CHECK(x.defined(), ValueError, "global_avg_pool1d: undefined input");
  EMBER_CHECK(x.dim() == 3, ShapeError, "global_avg_pool1d: expected input of rank 3 (N, T, C), got shape ",
              x.shape());
  return mean(x, {1});
}

}  // namespace ember
