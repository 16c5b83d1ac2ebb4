// batch_norm and layer_norm: forward and one fused backward each (the classic closed forms, so no graph of
// mean/var/sub/div nodes is built).
#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/conv.h"
#include "ember/ops/conv.h"

namespace ember {

namespace {

void check_param(const Tensor& t, const Shape& want, const Tensor& x, const char* op, const char* what) {
  if (!t.defined()) return;
  EMBER_CHECK(t.shape() == want, ShapeError, op, ": expected ", what, " of shape ", want, " for input shape ",
              x.shape(), ", got ", t.shape());
  EMBER_CHECK(t.dtype() == x.dtype(), DTypeError, op, ": ", what, " is ", dtype_name(t.dtype()),
              " but input is ", dtype_name(x.dtype()));
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

struct BatchNormBackward : autograd::Node {
  SavedTensor x, w;
  Tensor mean, invstd;  // owned by the node
  int64_t n = 0, c = 0, s = 0;
  bool training = true;
  const char* name() const override { return "batch_norm"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    const Tensor& xs = x.get(this);
    Tensor ws = w.defined() ? w.get(this) : Tensor();
    Tensor g = contiguous_data(grad);
    Tensor dx, dw, db;
    if (next_edges[0].fn) dx = empty(xs.shape(), xs.dtype());
    if (next_edges[1].fn) dw = empty({c}, xs.dtype());
    if (next_edges[2].fn) db = empty({c}, xs.dtype());
    dispatch_floating(xs.dtype(), "batch_norm", [&](auto tag) {
      using T = decltype(tag);
      kernels::batch_norm_backward<T>(n, c, s, xs.data<T>(), g.data<T>(), ptr_or_null<T>(ws), mean.data<T>(),
                                      invstd.data<T>(), training, dx.defined() ? dx.data<T>() : nullptr,
                                      dw.defined() ? dw.data<T>() : nullptr,
                                      db.defined() ? db.data<T>() : nullptr);
    });
    return {dx, dw, db};
  }
  void release_saved() override {
    x.reset();
    w.reset();
    mean = invstd = Tensor();
  }
};

struct LayerNormBackward : autograd::Node {
  SavedTensor x, w;
  Tensor mean, rstd;
  Shape norm_shape;
  int64_t rows = 0, d = 0;
  const char* name() const override { return "layer_norm"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    const Tensor& xs = x.get(this);
    Tensor ws = w.defined() ? w.get(this) : Tensor();
    Tensor g = contiguous_data(grad);
    Tensor dx, dw, db;
    if (next_edges[0].fn) dx = empty(xs.shape(), xs.dtype());
    if (next_edges[1].fn) dw = empty(norm_shape, xs.dtype());
    if (next_edges[2].fn) db = empty(norm_shape, xs.dtype());
    dispatch_floating(xs.dtype(), "layer_norm", [&](auto tag) {
      using T = decltype(tag);
      kernels::layer_norm_backward<T>(rows, d, xs.data<T>(), g.data<T>(), ptr_or_null<T>(ws), mean.data<T>(),
                                      rstd.data<T>(), dx.defined() ? dx.data<T>() : nullptr,
                                      dw.defined() ? dw.data<T>() : nullptr,
                                      db.defined() ? db.data<T>() : nullptr);
    });
    return {dx, dw, db};
  }
  void release_saved() override {
    x.reset();
    w.reset();
    mean = rstd = Tensor();
  }
};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined input");
  EMBER_CHECK(x.dim() >= 2, ShapeError, op, ": expected input (N, C) or (N, C, H, W), got shape ", x.shape());
  dispatch_floating(x.dtype(), op, [](auto) {});
  const int64_t n = x.size(0), c = x.size(1), s = c > 0 && n > 0 ? x.numel() / (n * c) : 0;
  const Shape cs{c};
  check_param(weight, cs, x, op, "weight");
  check_param(bias, cs, x, op, "bias");
  check_param(running_mean, cs, x, op, "running_mean");
  check_param(running_var, cs, x, op, "running_var");
  EMBER_CHECK(running_mean.defined() == running_var.defined(), ValueError, op,
              ": give both running_mean and running_var or neither");
  if (training) {
    EMBER_CHECK(n * s > 1, ValueError, op,
                ": expected more than 1 value per channel when training, got input shape ", x.shape());
  } else {
    EMBER_CHECK(running_mean.defined(), ValueError, op, ": eval mode needs running_mean and running_var");
  }
  if (running_mean.defined())
    EMBER_CHECK(running_mean.is_contiguous() && running_var.is_contiguous(), ValueError, op,
                ": running statistics must be contiguous (they are updated in place)");
  Tensor xc = contiguous_data(x);
  Tensor wc = weight.defined() ? contiguous_data(weight) : Tensor();
  Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor out = empty(x.shape(), x.dtype());
  Tensor mean = empty(cs, x.dtype()), invstd = empty(cs, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* rm = running_mean.defined() ? running_mean.data<T>() : nullptr;
    T* rv = running_var.defined() ? running_var.data<T>() : nullptr;
    kernels::batch_norm_forward<T>(n, c, s, xc.data<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc),
                                   out.data<T>(), training, momentum, eps, rm, rv, mean.data<T>(),
                                   invstd.data<T>());
  });
  if (training && running_mean.defined()) {
    running_mean.bump_version();
    running_var.bump_version();
  }
  if (autograd::any_requires_grad({&x, &weight, &bias})) {
    auto node = std::make_shared<BatchNormBackward>();
    node->x = SavedTensor(xc);
    if (wc.defined()) node->w = SavedTensor(wc);
    node->mean = mean;
    node->invstd = invstd;
    node->n = n, node->c = c, node->s = s;
    node->training = training;
    autograd::record(node, {&x, &weight, &bias}, out);
  }
  return out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined input");
  dispatch_floating(x.dtype(), op, [](auto) {});
  const size_t k = normalized_shape.size();
  bool fits = k >= 1 && k <= x.shape().size();
  for (size_t i = 0; fits && i < k; ++i) fits = x.shape()[x.shape().size() - k + i] == normalized_shape[i];
  EMBER_CHECK(fits, ShapeError, op, ": normalized_shape ", normalized_shape,
              " must be the trailing dimensions of the input, got input shape ", x.shape());
  check_param(weight, normalized_shape, x, op, "weight");
  check_param(bias, normalized_shape, x, op, "bias");
  const int64_t d = normalized_shape.numel(), rows = d > 0 ? x.numel() / d : 0;
  Tensor xc = contiguous_data(x);
  Tensor wc = weight.defined() ? contiguous_data(weight) : Tensor();
  Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor out = empty(x.shape(), x.dtype());
  Tensor mean = empty({rows}, x.dtype()), rstd = empty({rows}, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    kernels::layer_norm_forward<T>(rows, d, xc.data<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc), eps,
                                   out.data<T>(), mean.data<T>(), rstd.data<T>());
  });
  if (autograd::any_requires_grad({&x, &weight, &bias})) {
    auto node = std::make_shared<LayerNormBackward>();
    node->x = SavedTensor(xc);
    if (wc.defined()) node->w = SavedTensor(wc);
    node->mean = mean;
    node->rstd = rstd;
    node->rows = rows, node->d = d;
    node->norm_shape = normalized_shape;
    autograd::record(node, {&x, &weight, &bias}, out);
  }
  return out;
}

}  // namespace ember
