// Reductions: sum, mean (and sum_to, the reverse of broadcasting). The backward of a reduction broadcasts the
// incoming gradient back over the reduced axes as a stride-0 view, without copying.
#include <algorithm>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/reduce.h"
#include "ember/ops/ops.h"
#include "ember/ops/reduce_util.h"

namespace ember {

std::vector<int64_t> normalize_axes(const Axes& axes, int64_t rank, const char* op) {
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, rank, op);
    EMBER_CHECK(std::find(out.begin(), out.end(), n) == out.end(), ValueError, op, ": axis ", a,
                " appears more than once");
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  if (rank == 0) out.clear();
  return out;
}

Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& axes) {
  Shape s = shape;
  for (int64_t a : axes) s[a] = 1;
  return s;
}

Shape dropdim_shape(const Shape& shape, const std::vector<int64_t>& axes) {
  Shape s;
  for (size_t i = 0; i < shape.size(); ++i)
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) == axes.end()) s.push_back(shape[i]);
  return s;
}

Tensor expand_reduced_grad(const Tensor& g, const Shape& input_shape, const std::vector<int64_t>& axes) {
  Tensor gk = g.shape().size() == input_shape.size() ? g : reshape(g, keepdim_shape(input_shape, axes));
  return expand(gk, input_shape);
}

namespace {

struct SumBackward : autograd::Node {
  Shape input_shape;
  std::vector<int64_t> axes;
  double scale = 1.0;  // 1/count for mean
  const char* op = "sum";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gs = scale == 1.0 ? g : mul(g, scale);
    return {expand_reduced_grad(gs, input_shape, axes)};
  }
};

Tensor reduce_sum(const Tensor& x, const Axes& axes_in, bool keepdim, bool is_mean) {
  const char* op = is_mean ? "mean" : "sum";
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  std::vector<int64_t> axes = normalize_axes(axes_in, x.dim(), op);
  int64_t count = 1;
  for (int64_t a : axes) count *= x.shape()[a];
  if (is_mean) EMBER_CHECK(count > 0, ValueError, "mean: cannot average over an empty dimension of shape ", x.shape());
  Tensor out = kernels::sum_keepdim(x, axes);
  if (is_mean) {
    double inv = 1.0 / static_cast<double>(count);
    dispatch_floating(out.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      T* p = out.data<T>();
      for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(p[i] * inv);
    });
  }
  if (!keepdim) out = as_strided(out, dropdim_shape(x.shape(), axes), contiguous_strides(dropdim_shape(x.shape(), axes)), 0);
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<SumBackward>();
    n->input_shape = x.shape();
    n->axes = axes;
    n->scale = is_mean ? 1.0 / static_cast<double>(count) : 1.0;
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& axes, bool keepdim) { return reduce_sum(x, axes, keepdim, false); }
Tensor mean(const Tensor& x, const Axes& axes, bool keepdim) { return reduce_sum(x, axes, keepdim, true); }

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const Shape& gs = g.shape();
  EMBER_CHECK(gs.size() >= shape.size(), ShapeError, "sum_to: cannot reduce shape ", gs, " to ", shape);
  size_t lead = gs.size() - shape.size();
  Axes axes;
  for (size_t i = 0; i < gs.size(); ++i) {
    if (i < lead) axes.push_back(static_cast<int64_t>(i));
    else if (shape[i - lead] == 1 && gs[i] != 1) axes.push_back(static_cast<int64_t>(i));
    else
      EMBER_CHECK(shape[i - lead] == gs[i], ShapeError, "sum_to: cannot reduce shape ", gs, " to ", shape);
  }
  Tensor s = axes.empty() ? g : sum(g, axes, true);
  return reshape(s, shape);
}

}  // namespace ember
