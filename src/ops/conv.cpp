// conv2d and conv2d_relu: forward and the fused backward (data and weights+bias gradients in one node).
// float32 goes to oneDNN (kernels/cpu/conv.cpp), float64 to the reference loops.
#include "ember/ops/conv.h"

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/conv.h"
#include "ember/kernels/loops.h"

namespace ember {

namespace {

// Padding for one spatial dimension: {before, after}.
std::array<int64_t, 2> resolve_padding(const Padding2d& p, int64_t explicit_pad, int64_t in, int64_t k,
                                       int64_t s, int64_t d) {
  if (p.explicit_pair) return {explicit_pad, explicit_pad};
  if (p.mode == Padding::Valid) return {0, 0};
  // "same": out = ceil(in / s); the odd pixel goes after (PyTorch's padding='same', Keras/TF 'same').
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>((out - 1) * s + d * (k - 1) + 1 - in, 0);
  return {total / 2, total - total / 2};
}

kernels::Conv2dGeom conv_geometry(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p,
                                  const char* op) {
  EMBER_CHECK(x.defined() && w.defined(), ValueError, op, ": undefined input or weight");
  EMBER_CHECK(x.dim() == 4, ShapeError, op, ": expected input of rank 4 (N, C, H, W), got shape ", x.shape());
  EMBER_CHECK(w.dim() == 4, ShapeError, op, ": expected weight of rank 4 (O, C/groups, kh, kw), got shape ",
              w.shape());
  EMBER_CHECK(x.dtype() == w.dtype(), DTypeError, op, ": input is ", dtype_name(x.dtype()), " but weight is ",
              dtype_name(w.dtype()));
  EMBER_CHECK(p.groups >= 1, ValueError, op, ": groups must be >= 1, got ", p.groups);
  EMBER_CHECK(p.stride[0] >= 1 && p.stride[1] >= 1 && p.dilation[0] >= 1 && p.dilation[1] >= 1, ValueError,
              op, ": stride and dilation must be >= 1, got stride (", p.stride[0], ", ", p.stride[1],
              ") dilation (", p.dilation[0], ", ", p.dilation[1], ")");
  EMBER_CHECK(!p.padding.explicit_pair || (p.padding.h >= 0 && p.padding.w >= 0), ValueError, op,
              ": padding must be >= 0, got (", p.padding.h, ", ", p.padding.w, ")");
  kernels::Conv2dGeom g;
  g.n = x.size(0), g.c = x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.o = w.size(0), g.kh = w.size(2), g.kw = w.size(3);
  g.groups = p.groups;
  EMBER_CHECK(g.o % g.groups == 0, ShapeError, op, ": ", g.o, " output channels (weight shape ", w.shape(),
              ") are not divisible by groups=", g.groups);
  EMBER_CHECK(g.c == w.size(1) * g.groups, ShapeError, op,
              ": input channels do not match the weight: expected ", w.size(1) * g.groups,
              " channels (weight shape ", w.shape(), ", groups=", g.groups, "), got input shape ", x.shape());
  if (b.defined()) {
    EMBER_CHECK(b.dim() == 1 && b.size(0) == g.o, ShapeError, op, ": expected bias of shape (", g.o,
                ",), got ", b.shape());
    EMBER_CHECK(b.dtype() == x.dtype(), DTypeError, op, ": bias is ", dtype_name(b.dtype()), " but input is ",
                dtype_name(x.dtype()));
  }
  g.sh = p.stride[0], g.sw = p.stride[1], g.dh = p.dilation[0], g.dw = p.dilation[1];
  auto ph = resolve_padding(p.padding, p.padding.h, g.h, g.kh, g.sh, g.dh);
  auto pw = resolve_padding(p.padding, p.padding.w, g.w, g.kw, g.sw, g.dw);
  g.pt = ph[0], g.pb = ph[1], g.pl = pw[0], g.pr = pw[1];
  const int64_t ekh = g.dh * (g.kh - 1) + 1, ekw = g.dw * (g.kw - 1) + 1;
  EMBER_CHECK(ekh <= g.h + g.pt + g.pb && ekw <= g.w + g.pl + g.pr, ShapeError, op, ": kernel ", ekh, "x",
              ekw, " (dilated) is larger than the padded input ", g.h + g.pt + g.pb, "x", g.w + g.pl + g.pr,
              " (input shape ", x.shape(), ", weight shape ", w.shape(), ")");
  g.oh = (g.h + g.pt + g.pb - ekh) / g.sh + 1;
  g.ow = (g.w + g.pl + g.pr - ekw) / g.sw + 1;
  return g;
}

struct Conv2dBackward : autograd::Node {
  SavedTensor x, w, out;  // out only for the fused ReLU
  kernels::Conv2dGeom geom;
  bool relu = false;
  const char* name() const override { return relu ? "conv2d_relu" : "conv2d"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    const Tensor& xs = x.get(this);
    const Tensor& ws = w.get(this);
    Tensor g = contiguous_data(grad);
    const bool want_x = next_edges[0].fn != nullptr, want_w = next_edges[1].fn != nullptr;
    const bool want_b = next_edges.size() > 2 && next_edges[2].fn != nullptr;
    if (relu && !want_x && xs.dtype() == DType::Float32 && kernels::conv2d_direct_supported(geom)) {
      // First layer of an image model: the direct weight-gradient kernel applies the ReLU mask as it reads.
      Tensor dw = empty(ws.shape(), ws.dtype()), db;
      if (want_b) db = empty({geom.o}, xs.dtype());
      kernels::conv2d_backward_weights_direct(geom, xs.data<float>(), g.data<float>(),
                                              out.get(this).data<float>(), dw.data<float>(),
                                              want_b ? db.data<float>() : nullptr);
      return {Tensor(), want_w ? dw : Tensor(), db};
    }
    if (relu) {
      const Tensor& o = out.get(this);
      g = dispatch_floating(g.dtype(), "conv2d_relu", [&](auto tag) {
        using T = decltype(tag);
        return kernels::map2<T, T, T>(g, o, g.dtype(), "conv2d_relu",
                                      [](T gv, T ov) { return ov > T(0) ? gv : T(0); });
      });
    }
    Tensor dx, dw, db;
    if (want_x) dx = empty(xs.shape(), xs.dtype());
    if (want_w) dw = empty(ws.shape(), ws.dtype());
    if (want_b) db = empty({geom.o}, xs.dtype());
    if (xs.dtype() == DType::Float32) {
      if (want_x) kernels::conv2d_backward_data(geom, g.data<float>(), ws.data<float>(), dx.data<float>());
      if (want_w || want_b) {
        Tensor dw_buf = want_w ? dw : empty(ws.shape(), ws.dtype());
        kernels::conv2d_backward_weights(geom, xs.data<float>(), g.data<float>(), dw_buf.data<float>(),
                                         want_b ? db.data<float>() : nullptr);
      }
    } else {
      if (want_x)
        kernels::conv2d_backward_data_ref(geom, g.data<double>(), ws.data<double>(), dx.data<double>());
      if (want_w || want_b) {
        Tensor dw_buf = want_w ? dw : empty(ws.shape(), ws.dtype());
        kernels::conv2d_backward_weights_ref(geom, xs.data<double>(), g.data<double>(), dw_buf.data<double>(),
                                             want_b ? db.data<double>() : nullptr);
      }
    }
    return {dx, dw, db};
  }
  void release_saved() override {
    x.reset();
    w.reset();
    out.reset();
  }
};

Tensor conv2d_impl(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                   bool relu) {
  const char* op = relu ? "conv2d_relu" : "conv2d";
  kernels::Conv2dGeom g = conv_geometry(x, weight, bias, p, op);
  Tensor xc = contiguous_data(x), wc = contiguous_data(weight);
  Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor out = empty({g.n, g.o, g.oh, g.ow}, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* bp = bc.defined() ? bc.data<T>() : nullptr;
    if constexpr (std::is_same_v<T, float>) {
      kernels::conv2d_forward(g, xc.data<T>(), wc.data<T>(), bp, out.data<T>(), relu);
    } else {
      T* y = out.data<T>();
      kernels::conv2d_forward_ref(g, xc.data<T>(), wc.data<T>(), bp, y);
      if (relu)
        for (int64_t i = 0; i < out.numel(); ++i) y[i] = y[i] > T(0) ? y[i] : T(0);
    }
  });
  if (autograd::any_requires_grad({&x, &weight, &bias})) {
    auto n = std::make_shared<Conv2dBackward>();
    n->x = SavedTensor(xc);
    n->w = SavedTensor(wc);
    n->geom = g;
    n->relu = relu;
    if (relu) n->out = SavedTensor(out, true);
    autograd::record(n, {&x, &weight, &bias}, out);
  }
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  return conv2d_impl(x, weight, bias, p, false);
}

Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  return conv2d_impl(x, weight, bias, p, true);
}

namespace {

// The fused convolution + 2x2 max pooling (+ ReLU). The direct kernel (first layers) gives only the weight
// and bias gradients (the input needs none there); the Winograd kernels give the input gradient too.
struct Conv2dPool2Backward : autograd::Node {
  SavedTensor x, w, out;  // w only for the Winograd kernels
  Tensor arg;             // uint8 window index per output, stored in a Bool tensor
  kernels::Conv2dGeom geom;
  bool relu = false, winograd = false;
  const char* name() const override { return "conv2d_maxpool2"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor g = contiguous_data(grad);
    const bool want_x = next_edges[0].fn != nullptr, want_w = next_edges[1].fn != nullptr;
    const bool want_b = next_edges.size() > 2 && next_edges[2].fn != nullptr;
    const Tensor& xs = x.get(this);
    const float* relu_out = relu ? out.get(this).data<float>() : nullptr;
    const auto* a = static_cast<const uint8_t*>(arg.raw_data());
    Tensor dx, dw, db;
    if (want_w || want_b) dw = empty({geom.o, geom.c, geom.kh, geom.kw}, xs.dtype());
    if (want_b) db = empty({geom.o}, xs.dtype());
    if (winograd) {
      if (want_x) dx = empty(xs.shape(), xs.dtype());
      const bool ran = kernels::conv2d_pool2_backward_winograd(
          geom, xs.data<float>(), w.get(this).data<float>(), g.data<float>(), relu_out, a,
          want_x ? dx.data<float>() : nullptr, dw.defined() ? dw.data<float>() : nullptr,
          want_b ? db.data<float>() : nullptr);
      EMBER_CHECK(ran, Error, "conv2d_maxpool2: the Winograd backward does not handle this geometry");
    } else {
      kernels::conv2d_pool2_backward_weights_direct(geom, xs.data<float>(), g.data<float>(), relu_out, a,
                                                    dw.data<float>(), want_b ? db.data<float>() : nullptr);
    }
    return {dx, want_w ? dw : Tensor(), db};
  }
  void release_saved() override {
    x.reset();
    w.reset();
    out.reset();
    arg = Tensor();
  }
};

}  // namespace

Tensor conv2d_maxpool2(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                       bool relu) {
  kernels::Conv2dGeom g = conv_geometry(x, weight, bias, p, "conv2d_maxpool2");
  // The direct kernel (1-4 input channels, no input gradient) or the Winograd kernels (8+ channels).
  const bool f32 = x.dtype() == DType::Float32 && g.oh >= 2 && g.ow >= 2;
  const bool direct = f32 && !autograd::any_requires_grad({&x}) && kernels::conv2d_direct_supported(g);
  const bool winograd = f32 && !direct && kernels::conv2d_pool2_winograd_supported(g);
  if (!direct && !winograd) {
    Tensor y = max_pool2d(conv2d(x, weight, bias, p), {2, 2});
    return relu ? ember::relu(y) : y;
  }
  Tensor xc = contiguous_data(x), wc = contiguous_data(weight);
  Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor out = empty({g.n, g.o, g.oh / 2, g.ow / 2}, x.dtype());
  const bool grad = autograd::any_requires_grad({&x, &weight, &bias});
  Tensor arg = empty({out.numel()}, DType::Bool);
  const float* bp = bc.defined() ? bc.data<float>() : nullptr;
  auto* ap = static_cast<uint8_t*>(arg.raw_data());
  if (winograd)
    kernels::conv2d_pool2_forward_winograd(g, xc.data<float>(), wc.data<float>(), bp, relu, out.data<float>(),
                                           ap);
  else
    kernels::conv2d_pool2_forward_direct(g, xc.data<float>(), wc.data<float>(), bp, relu, out.data<float>(),
                                         ap);
  if (grad) {
    auto n = std::make_shared<Conv2dPool2Backward>();
    n->x = SavedTensor(xc);
    if (winograd) n->w = SavedTensor(wc);
    n->arg = arg;
    n->geom = g;
    n->relu = relu;
    n->winograd = winograd;
    if (relu) n->out = SavedTensor(out, true);
    autograd::record(n, {&x, &weight, &bias}, out);
  }
  return out;
}

}  // namespace ember
