// Joining, splitting and indexing: concat, stack, split, chunk, index_select, gather, masked_fill, where.
// Splits are views of their input. Their backward is one node shared by all pieces: each piece's node parks
// its gradient there, and the shared node writes the input's gradient once, with zeros only where a piece got
// no gradient (no full-size zero tensor per piece).
#include "ember/kernels/index.h"

#include <algorithm>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

void check_index_dtype(const Tensor& index, const char* op) {
  EMBER_CHECK(index.defined(), ValueError, op, ": undefined index tensor");
  EMBER_CHECK(index.dtype() == DType::Int64, DTypeError, op, ": the index tensor must be int64, got ",
              dtype_name(index.dtype()));
}

void check_index_range(const Tensor& index, int64_t size, int64_t axis, const char* op) {
  Tensor ic = contiguous_data(index);
  const int64_t* p = ic.data<int64_t>();
  const int64_t n = ic.numel();
  // A branch-free pass (vectorises); the slow search for the culprit runs only when something is out of
  // range.
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad |= static_cast<int64_t>(static_cast<uint64_t>(p[i]) >= static_cast<uint64_t>(size));
  if (!bad) return;
  for (int64_t i = 0; i < n; ++i)
    EMBER_CHECK(p[i] >= 0 && p[i] < size, IndexError, op, ": index ", p[i], " is out of range for axis ",
                axis, " of size ", size);
}

// The view of `g` covering [start, start + len) along `axis` (no autograd).
Tensor narrow_view(const Tensor& g, int64_t axis, int64_t start, int64_t len) {
  Shape shape = g.shape();
  shape[axis] = len;
  return as_strided(g, shape, g.strides(), g.offset() + start * g.strides()[axis]);
}

// ---- concat / stack ----

struct ConcatBackward : autograd::Node {
  std::vector<int64_t> sizes;
  int64_t axis = 0;
  bool stacked = false;  // stack: the pieces are size-1 slices whose axis is dropped
  std::vector<Shape> shapes;
  const char* name() const override { return stacked ? "stack" : "concat"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    std::vector<Tensor> out(sizes.size());
    int64_t start = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      if (next_edges[k].fn) {
        Tensor v = narrow_view(g, axis, start, sizes[k]);
        if (stacked) {
          Shape st = v.strides();
          st.erase(axis);
          v = as_strided(v, shapes[k], st, v.offset());
        }
        out[k] = v;
      }
      start += sizes[k];
    }
    return out;
  }
};

Tensor join(const std::vector<Tensor>& xs, int64_t axis_in, bool stacked) {
  const char* op = stacked ? "stack" : "concat";
  EMBER_CHECK(!xs.empty(), ValueError, op, ": expected a non-empty list of tensors");
  for (const Tensor& t : xs) EMBER_CHECK(t.defined(), ValueError, op, ": undefined tensor in the list");
  const Shape& s0 = xs[0].shape();
  const int64_t rank = static_cast<int64_t>(s0.size()) + (stacked ? 1 : 0);
  EMBER_CHECK(rank > 0, ShapeError, op, ": cannot concatenate 0-dimensional tensors; use stack");
  const int64_t axis = normalize_axis(axis_in, rank, op);
  std::vector<Tensor> parts(xs.size());
  std::vector<int64_t> sizes(xs.size());
  std::vector<Shape> shapes(xs.size());
  Shape out_shape = s0;
  if (stacked) out_shape.insert(axis, 0);
  int64_t total = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& t = xs[k];
    EMBER_CHECK(t.dtype() == xs[0].dtype(), DTypeError, op, ": tensor ", k, " has dtype ",
                dtype_name(t.dtype()), " but tensor 0 has ", dtype_name(xs[0].dtype()));
    shapes[k] = t.shape();
    if (stacked) {
      EMBER_CHECK(t.shape() == s0, ShapeError, op, ": tensor ", k, " has shape ", t.shape(),
                  " but tensor 0 has ", s0, " (all must be equal to stack along axis ", axis_in, ")");
      Shape sh = t.shape(), st = t.strides();
      sh.insert(axis, 1);
      st.insert(axis, 1);
      parts[k] = as_strided(t, sh, st, t.offset());
      sizes[k] = 1;
    } else {
      bool ok = t.shape().size() == s0.size();
      for (size_t d = 0; ok && d < s0.size(); ++d)
        ok = static_cast<int64_t>(d) == axis || t.shape()[d] == s0[d];
      EMBER_CHECK(ok, ShapeError, op, ": tensor ", k, " has shape ", t.shape(), " but tensor 0 has ", s0,
                  "; they must match except along axis ", axis_in);
      parts[k] = t;
      sizes[k] = t.shape()[axis];
    }
    total += sizes[k];
  }
  out_shape[axis] = total;
  Tensor out = empty(out_shape, xs[0].dtype());
  kernels::concat_into(parts, sizes, axis, out);
  if (autograd::any_requires_grad(xs)) {
    auto n = std::make_shared<ConcatBackward>();
    n->sizes = sizes;
    n->axis = axis;
    n->stacked = stacked;
    n->shapes = shapes;
    autograd::record(n, xs, out);
  }
  return out;
}

// ---- split / chunk ----

// Collects the pieces' gradients (see the file comment). Its own "output" is a 0-d token: each piece's node
// returns a zero token so that the engine runs this node once after all pieces that received a gradient.
struct SplitGather : autograd::Node {
  std::vector<int64_t> sizes;
  int64_t axis = 0;
  Shape input_shape;
  std::vector<Tensor> slots;
  const char* name() const override { return "split"; }
  std::vector<Tensor> apply(const Tensor& token) override {
    slots.resize(sizes.size());
    Tensor dx = empty(input_shape, token.dtype());
    kernels::concat_into(slots, sizes, axis, dx);
    for (auto& s : slots) s = Tensor();
    return {dx};
  }
  void release_saved() override { slots.clear(); }
};

struct SplitPiece : autograd::Node {
  std::shared_ptr<SplitGather> gather;
  size_t k = 0;
  const char* op = "split";
  const char* name() const override { return op; }
  std::vector<Tensor> apply(const Tensor& g) override {
    gather->slots.resize(gather->sizes.size());
    gather->slots[k] = g;
    return {zeros(Shape{}, g.dtype())};
  }
  void release_saved() override { gather.reset(); }
};

std::vector<Tensor> split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis,
                                const char* op) {
  std::vector<Tensor> out;
  out.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow_view(x, axis, start, s));
    start += s;
  }
  if (autograd::any_requires_grad({&x})) {
    auto gather = std::make_shared<SplitGather>();
    gather->sizes = sizes;
    gather->axis = axis;
    gather->input_shape = x.shape();
    Tensor token = zeros(Shape{}, x.dtype());
    autograd::record(gather, {&x}, token);
    for (size_t k = 0; k < out.size(); ++k) {
      auto n = std::make_shared<SplitPiece>();
      n->gather = gather;
      n->k = k;
      n->op = op;
      autograd::record(n, {&token}, out[k]);
    }
  }
  return out;
}

int64_t split_axis(const Tensor& x, int64_t axis, const char* op) {
  EMBER_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  EMBER_CHECK(x.dim() > 0, IndexError, op, ": cannot split a 0-dimensional tensor");
  return normalize_axis(axis, x.dim(), op);
}

// Pieces of `size` along an axis of length n (the last may be shorter; at least one piece).
std::vector<int64_t> even_sizes(int64_t n, int64_t size) {
  std::vector<int64_t> sizes;
  for (int64_t s = 0; s < n; s += size) sizes.push_back(std::min(size, n - s));
  if (sizes.empty()) sizes.push_back(0);
  return sizes;
}

// ---- index_select / gather ----

struct IndexSelectBackward : autograd::Node {
  Tensor index;
  Shape input_shape;
  int64_t axis = 0;
  const char* name() const override { return "index_select"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor dx = zeros(input_shape, g.dtype());
    kernels::index_add(g, axis, index, dx);
    return {dx};
  }
  void release_saved() override { index = Tensor(); }
};

struct GatherBackward : autograd::Node {
  Tensor index;
  Shape input_shape;
  int64_t axis = 0;
  const char* name() const override { return "gather"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor dx = zeros(input_shape, g.dtype());
    kernels::scatter_add(g, axis, index, dx);
    return {dx};
  }
  void release_saved() override { index = Tensor(); }
};

// ---- masked_fill / where ----

void check_mask(const Tensor& m, const char* op, const char* what) {
  EMBER_CHECK(m.defined(), ValueError, op, ": undefined ", what);
  EMBER_CHECK(m.dtype() == DType::Bool, DTypeError, op, ": the ", what, " must be bool, got ",
              dtype_name(m.dtype()), " (make one with a comparison such as ember::gt)");
}

// cond ? a : b through the branch-free dense kernel when every operand is contiguous with the result's size
// (a or b may also be a single value); an undefined Tensor otherwise.
Tensor try_select_dense(const Tensor& cond, const Tensor& a, const Tensor& b, const Shape& shape) {
  const int64_t n = shape.numel();
  auto fits = [&](const Tensor& t, bool may_be_scalar) {
    return t.is_contiguous() && (t.shape() == shape || (may_be_scalar && t.numel() == 1));
  };
  if (n == 0 || !fits(cond, false) || !fits(a, true) || !fits(b, true)) return Tensor();
  Tensor out = empty(shape, a.dtype());
  kernels::select_dense(cond, a, b, out);
  return out;
}

// g where the mask is false (keep_where_true = false) or true, else 0.
Tensor masked_grad(const Tensor& g, const Tensor& mask, bool keep_where_true, const char* op) {
  if (g.shape() == mask.shape()) {
    Tensor zero = zeros(Shape{}, g.dtype());
    Tensor r = keep_where_true ? try_select_dense(mask, g, zero, g.shape())
                               : try_select_dense(mask, zero, g, g.shape());
    if (r.defined()) return r;
  }
  return dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return kernels::map2<T, T, bool>(
        g, mask, g.dtype(), op, [keep_where_true](T v, bool m) { return m == keep_where_true ? v : T(0); });
  });
}

struct MaskedFillBackward : autograd::Node {
  Tensor mask;
  Shape input_shape;
  const char* name() const override { return "masked_fill"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    return {sum_to(masked_grad(g, mask, false, "masked_fill"), input_shape)};
  }
  void release_saved() override { mask = Tensor(); }
};

struct WhereBackward : autograd::Node {
  Tensor cond;
  Shape a_shape, b_shape;
  const char* name() const override { return "where"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor ga, gb;
    if (next_edges[1].fn) ga = sum_to(masked_grad(g, cond, true, "where"), a_shape);
    if (next_edges[2].fn) gb = sum_to(masked_grad(g, cond, false, "where"), b_shape);
    return {Tensor(), ga, gb};
  }
  void release_saved() override { cond = Tensor(); }
};

}  // namespace

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  return join(xs, axis, false);
}
Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  return join(xs, axis, true);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t axis_in) {
  int64_t axis = split_axis(x, axis_in, "split");
  EMBER_CHECK(split_size > 0, ValueError, "split: split_size must be positive, got ", split_size);
  return split_sizes(x, even_sizes(x.shape()[axis], split_size), axis, "split");
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis_in) {
  int64_t axis = split_axis(x, axis_in, "split");
  EMBER_CHECK(!sizes.empty(), ValueError, "split: expected at least one size");
  int64_t total = 0;
  for (int64_t s : sizes) {
    EMBER_CHECK(s >= 0, ValueError, "split: sizes must be non-negative, got ", s);
    total += s;
  }
  EMBER_CHECK(total == x.shape()[axis], ShapeError, "split: sizes add up to ", total, " but axis ", axis_in,
              " of shape ", x.shape(), " has size ", x.shape()[axis]);
  return split_sizes(x, sizes, axis, "split");
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t axis_in) {
  int64_t axis = split_axis(x, axis_in, "chunk");
  EMBER_CHECK(chunks > 0, ValueError, "chunk: the number of chunks must be positive, got ", chunks);
  int64_t n = x.shape()[axis];
  int64_t size = std::max<int64_t>(1, (n + chunks - 1) / chunks);  // like torch.chunk: may return fewer
  return split_sizes(x, even_sizes(n, size), axis, "chunk");
}

Tensor index_select(const Tensor& x, int64_t axis_in, const Tensor& index) {
  EMBER_CHECK(x.defined(), ValueError, "index_select: undefined tensor");
  check_index_dtype(index, "index_select");
  EMBER_CHECK(index.dim() <= 1, ShapeError, "index_select: the index must be 1-D, got shape ", index.shape());
  EMBER_CHECK(x.dim() > 0, IndexError, "index_select: cannot index a 0-dimensional tensor");
  int64_t axis = normalize_axis(axis_in, x.dim(), "index_select");
  check_index_range(index, x.shape()[axis], axis_in, "index_select");
  Shape shape = x.shape();
  shape[axis] = index.numel();
  Tensor out = empty(shape, x.dtype());
  Tensor idx = contiguous_data(index);
  kernels::index_select(x, axis, idx, out);
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<IndexSelectBackward>();
    n->index = copy_as(idx, DType::Int64);  // private copy: the caller may change theirs in place
    n->input_shape = x.shape();
    n->axis = axis;
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t axis_in, const Tensor& index) {
  EMBER_CHECK(x.defined(), ValueError, "gather: undefined tensor");
  check_index_dtype(index, "gather");
  EMBER_CHECK(x.dim() > 0, IndexError, "gather: cannot index a 0-dimensional tensor");
  EMBER_CHECK(index.dim() == x.dim(), ShapeError, "gather: the index must have the input's rank ", x.dim(),
              ", got index shape ", index.shape(), " for input shape ", x.shape());
  int64_t axis = normalize_axis(axis_in, x.dim(), "gather");
  for (int64_t d = 0; d < x.dim(); ++d)
    EMBER_CHECK(d == axis || index.shape()[d] <= x.shape()[d], ShapeError, "gather: index shape ",
                index.shape(), " is larger than input shape ", x.shape(), " in dimension ", d, " (only axis ",
                axis_in, " may be larger)");
  check_index_range(index, x.shape()[axis], axis_in, "gather");
  Tensor out = empty(index.shape(), x.dtype());
  Tensor idx = contiguous_data(index);
  kernels::gather(x, axis, idx, out);
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<GatherBackward>();
    n->index = copy_as(idx, DType::Int64);
    n->input_shape = x.shape();
    n->axis = axis;
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  EMBER_CHECK(x.defined(), ValueError, "masked_fill: undefined tensor");
  check_mask(mask, "masked_fill", "mask");
  Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  EMBER_CHECK(shape == x.shape(), ShapeError, "masked_fill: mask of shape ", mask.shape(),
              " does not broadcast to the input's shape ", x.shape());
  Tensor out = try_select_dense(mask, full(Shape{}, value, x.dtype()), x, x.shape());
  if (!out.defined())
    out = dispatch_all(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T v = static_cast<T>(value);
      return kernels::map2<T, T, bool>(x, mask, x.dtype(), "masked_fill",
                                       [v](T a, bool m) { return m ? v : a; });
    });
  if (autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<MaskedFillBackward>();
    n->mask = copy_as(mask, DType::Bool);
    n->input_shape = x.shape();
    autograd::record(n, {&x}, out);
  }
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_mask(cond, "where", "condition");
  EMBER_CHECK(a.defined() && b.defined(), ValueError, "where: undefined tensor");
  EMBER_CHECK(a.dtype() == b.dtype(), DTypeError, "where: the two value tensors have different dtypes ",
              dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = try_select_dense(cond, a, b, shape);
  if (!out.defined())
    out = dispatch_all(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return kernels::map3<T, bool, T, T>(cond, a, b, a.dtype(), "where",
                                          [](bool c, T x, T y) { return c ? x : y; });
    });
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<WhereBackward>();
    n->cond = copy_as(cond, DType::Bool);
    n->a_shape = a.shape();
    n->b_shape = b.shape();
    autograd::record(n, {&cond, &a, &b}, out);
  }
  return out;
}

}  // namespace ember
