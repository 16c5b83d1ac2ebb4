// Views and shape ops. Views (reshape of a compatible layout, transpose, permute, slice, select, expand,
// squeeze, unsqueeze) share their input's storage; their backward maps the gradient back to the input's shape.
#include <algorithm>
#include <numeric>

#include "ember/autograd/node.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

Tensor view_of(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  return as_strided(x, shape, strides, offset);
}

struct ReshapeBackward : autograd::Node {
  Shape input_shape;
  const char* op = "reshape";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override { return {reshape(g, input_shape)}; }
};

Tensor record_reshape(const Tensor& x, Tensor out, const char* op) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<ReshapeBackward>();
    n->input_shape = x.shape();
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}

Shape infer_shape(const Shape& shape, int64_t numel, const Shape& from, const char* op) {
  Shape out = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK(infer < 0, ShapeError, op, ": only one dimension can be -1 in ", shape);
      infer = static_cast<int64_t>(i);
    } else {
      EMBER_CHECK(out[i] >= 0, ShapeError, op, ": invalid dimension ", out[i], " in ", shape);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, ShapeError, op, ": cannot reshape ", from, " (", numel,
                " elements) into ", shape);
    out[infer] = numel / known;
  }
  EMBER_CHECK(out.numel() == numel, ShapeError, op, ": cannot reshape ", from, " (", numel, " elements) into ", shape,
              " (", out.numel(), " elements)");
  return out;
}

// Strides that let `x` be viewed with `shape` without copying, or false (the algorithm PyTorch's view uses:
// each chunk of input dimensions that is contiguous in memory can be split or merged freely).
bool view_strides(const Tensor& x, const Shape& shape, Shape& strides) {
  const Shape& os = x.shape();
  const Shape& ost = x.strides();
  if (x.numel() == 0 || os.empty()) {
    strides = contiguous_strides(shape);
    return true;
  }
  strides = Shape::filled(shape.size(), 0);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape_in) {
  Shape shape = infer_shape(shape_in, x.numel(), x.shape(), "view");
  Shape strides;
  EMBER_CHECK(view_strides(x, shape, strides), ShapeError, "view: a tensor of shape ", x.shape(), " and strides ",
              x.strides(), " cannot be viewed as ", shape, " without a copy; use reshape()");
  return record_reshape(x, view_of(x, shape, strides, x.offset()), "view");
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  Shape shape = infer_shape(shape_in, x.numel(), x.shape(), "reshape");
  if (shape == x.shape()) return x;
  Shape strides;
  if (view_strides(x, shape, strides)) return record_reshape(x, view_of(x, shape, strides, x.offset()), "reshape");
  Tensor c = contiguous_data(x);
  return record_reshape(x, view_of(c, shape, contiguous_strides(shape), c.offset()), "reshape");
}

Tensor flatten(const Tensor& x, int64_t start_axis, int64_t end_axis) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = normalize_axis(start_axis, x.dim(), "flatten");
  int64_t e = normalize_axis(end_axis, x.dim(), "flatten");
  EMBER_CHECK(s <= e, IndexError, "flatten: start axis ", start_axis, " comes after end axis ", end_axis);
  Shape shape;
  int64_t merged = 1;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i < s || i > e) shape.push_back(x.shape()[i]);
    else {
      merged *= x.shape()[i];
      if (i == e) shape.push_back(merged);
    }
  }
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x) {
  Shape shape;
  for (int64_t d : x.shape())
    if (d != 1) shape.push_back(d);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t axis) {
  int64_t a = normalize_axis(axis, x.dim(), "squeeze");
  if (x.dim() == 0 || x.shape()[a] != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(a);
  strides.erase(a);
  return record_reshape(x, view_of(x, shape, strides, x.offset()), "squeeze");
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  int64_t a = normalize_axis(axis, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t st = a < x.dim() ? x.strides()[a] * x.shape()[a] : 1;
  shape.insert(a, 1);
  strides.insert(a, st);
  return record_reshape(x, view_of(x, shape, strides, x.offset()), "unsqueeze");
}

namespace {
struct PermuteBackward : autograd::Node {
  Axes inverse;
  const char* op = "permute";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override { return {permute(g, inverse)}; }
};

Tensor permute_impl(const Tensor& x, const Axes& order, const char* op) {
  int64_t r = x.dim();
  EMBER_CHECK(static_cast<int64_t>(order.size()) == r, ShapeError, op, ": ", order.size(),
              " axes given for a tensor of shape ", x.shape());
  Axes norm(r), inverse(r, -1);
  for (int64_t i = 0; i < r; ++i) {
    norm[i] = normalize_axis(order[i], r, op);
    EMBER_CHECK(inverse[norm[i]] < 0, ValueError, op, ": axis ", order[i], " appears more than once");
    inverse[norm[i]] = i;
  }
  Shape shape = Shape::filled(r, 0), strides = Shape::filled(r, 0);
  for (int64_t i = 0; i < r; ++i) {
    shape[i] = x.shape()[norm[i]];
    strides[i] = x.strides()[norm[i]];
  }
  Tensor out = view_of(x, shape, strides, x.offset());
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<PermuteBackward>();
    n->inverse = inverse;
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}
}  // namespace

Tensor permute(const Tensor& x, const Axes& order) { return permute_impl(x, order, "permute"); }

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
  int64_t r = x.dim();
  int64_t a = normalize_axis(axis0, r, "transpose"), b = normalize_axis(axis1, r, "transpose");
  Axes order(r);
  std::iota(order.begin(), order.end(), 0);
  if (r > 0) std::swap(order[a], order[b]);
  return permute_impl(x, order, "transpose");
}

namespace {
// Scatters the gradient of a strided sub-view back into a zero tensor of the input's shape.
struct SliceBackward : autograd::Node {
  Shape input_shape, view_shape, view_strides;  // view geometry relative to a contiguous input
  int64_t view_offset = 0;
  const char* op = "slice";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gi = zeros(input_shape, g.dtype());
    copy_into(as_strided(gi, view_shape, view_strides, view_offset), g);
    return {gi};
  }
};

Tensor record_subview(const Tensor& x, const Shape& shape, const Shape& rel_strides_c, int64_t rel_offset_c,
                      Tensor out, const char* op) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<SliceBackward>();
    n->input_shape = x.shape();
    n->view_shape = shape;
    n->view_strides = rel_strides_c;
    n->view_offset = rel_offset_c;
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}
}  // namespace

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  int64_t a = normalize_axis(axis, x.dim(), "slice");
  EMBER_CHECK(x.dim() > 0, IndexError, "slice: cannot slice a 0-dimensional tensor");
  EMBER_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  int64_t n = x.shape()[a];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  int64_t len = (end - start + step - 1) / step;
  Shape shape = x.shape(), strides = x.strides();
  shape[a] = len;
  strides[a] *= step;
  Tensor out = view_of(x, shape, strides, x.offset() + start * x.strides()[a]);
  Shape cs = contiguous_strides(x.shape());
  Shape rel = cs;
  rel[a] *= step;
  return record_subview(x, shape, rel, start * cs[a], out, "slice");
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
  EMBER_CHECK(x.dim() > 0, IndexError, "select: cannot index a 0-dimensional tensor");
  int64_t a = normalize_axis(axis, x.dim(), "select");
  int64_t n = x.shape()[a];
  int64_t i = index < 0 ? index + n : index;
  EMBER_CHECK(i >= 0 && i < n, IndexError, "select: index ", index, " is out of range for axis ", axis, " of size ", n);
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(a);
  strides.erase(a);
  Tensor out = view_of(x, shape, strides, x.offset() + i * x.strides()[a]);
  Shape cs = contiguous_strides(x.shape());
  int64_t off = i * cs[a];
  cs.erase(a);
  return record_subview(x, shape, cs, off, out, "select");
}

namespace {
struct ExpandBackward : autograd::Node {
  Shape input_shape;
  const char* name() const override { return "expand"; }
  std::vector<Tensor> apply(const Tensor& g) override { return {sum_to(g, input_shape)}; }
};
}  // namespace

Tensor expand(const Tensor& x, const Shape& shape_in) {
  const Shape& xs = x.shape();
  EMBER_CHECK(shape_in.size() >= xs.size(), ShapeError, "expand: cannot expand shape ", xs, " to ", shape_in,
              " (fewer dimensions)");
  size_t lead = shape_in.size() - xs.size();
  Shape shape = shape_in, strides = Shape::filled(shape_in.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      EMBER_CHECK(shape[i] >= 0, ShapeError, "expand: invalid target shape ", shape_in);
      continue;
    }
    int64_t d = xs[i - lead];
    if (shape[i] == -1) shape[i] = d;
    if (d == shape[i]) strides[i] = x.strides()[i - lead];
    else
      EMBER_CHECK(d == 1, ShapeError, "expand: cannot expand shape ", xs, " to ", shape_in, " (dimension ", i,
                  ": ", d, " to ", shape[i], ")");
  }
  if (shape == xs) return x;
  Tensor out = view_of(x, shape, strides, x.offset());
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<ExpandBackward>();
    n->input_shape = xs;
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) { return expand(x, shape); }

namespace {
struct IdentityBackward : autograd::Node {
  const char* op = "clone";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override { return {g}; }
};
struct ToBackward : autograd::Node {
  DType input_dtype = DType::Float32;
  const char* name() const override { return "to"; }
  std::vector<Tensor> apply(const Tensor& g) override { return {to(g, input_dtype)}; }
};
Tensor record_identity(const Tensor& x, Tensor out, const char* op) {
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<IdentityBackward>();
    n->op = op;
    autograd::record(n, {&x}, out);
  }
  return out;
}
}  // namespace

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return record_identity(x, copy_as(x, x.dtype()), "contiguous");
}

Tensor clone(const Tensor& x) { return record_identity(x, copy_as(x, x.dtype()), "clone"); }

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = copy_as(x, dtype);
  if (is_floating(dtype) && is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<ToBackward>();
    n->input_dtype = x.dtype();
    autograd::record(n, {&x}, out);
  }
  return out;
}

}  // namespace ember
