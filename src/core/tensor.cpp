#include "ember/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "ember/core/dispatch.h"

namespace ember {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

int64_t Tensor::size(int64_t axis) const {
  return impl_->shape[normalize_axis(axis, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  const Shape& sh = impl_->shape;
  const Shape& st = impl_->strides;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

void Tensor::check_dtype(DType expected, const char* what) const {
  if (impl_->dtype != expected)
    throw DTypeError(detail::concat(what, ": expected a ", dtype_name(expected), " tensor, got ",
                                    dtype_name(impl_->dtype)));
}

int64_t Tensor::element_offset(std::initializer_list<int64_t> index) const {
  EMBER_CHECK(static_cast<int64_t>(index.size()) == dim(), IndexError, "at: ", index.size(),
              " indices given for a tensor of shape ", shape());
  int64_t off = impl_->offset;
  size_t k = 0;
  for (int64_t i : index) {
    int64_t n = impl_->shape[k];
    int64_t j = i < 0 ? i + n : i;
    EMBER_CHECK(j >= 0 && j < n, IndexError, "at: index ", i, " is out of range for dimension ", k,
                " of size ", n);
    off += j * impl_->strides[k];
    ++k;
  }
  return off;
}

namespace {
double load(const void* base, DType dt, int64_t off) {
  switch (dt) {
    case DType::Float32: return static_cast<const float*>(base)[off];
    case DType::Float64: return static_cast<const double*>(base)[off];
    case DType::Int64: return static_cast<double>(static_cast<const int64_t*>(base)[off]);
    case DType::Bool: return static_cast<const bool*>(base)[off] ? 1.0 : 0.0;
  }
  return 0;
}
void store(void* base, DType dt, int64_t off, double v) {
  switch (dt) {
    case DType::Float32: static_cast<float*>(base)[off] = static_cast<float>(v); break;
    case DType::Float64: static_cast<double*>(base)[off] = v; break;
    case DType::Int64: static_cast<int64_t*>(base)[off] = static_cast<int64_t>(v); break;
    case DType::Bool: static_cast<bool*>(base)[off] = v != 0; break;
  }
}

// Calls f(offset) for every element of a strided geometry, in row-major order.
template <typename F>
void for_each_offset(const Shape& shape, const Shape& strides, int64_t offset, F&& f) {
  int64_t n = shape.numel();
  if (n == 0) return;
  size_t r = shape.size();
  if (r == 0) {
    f(offset);
    return;
  }
  Shape idx = Shape::filled(r, 0);
  int64_t off = offset;
  for (int64_t e = 0; e < n; ++e) {
    f(off);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= (shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
}
}  // namespace

double Tensor::item() const {
  EMBER_CHECK(numel() == 1, ValueError, "item: expected a tensor with one element, got shape ", shape());
  return load(impl_->storage->data(), dtype(), impl_->offset);
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  return load(impl_->storage->data(), dtype(), element_offset(index));
}

void Tensor::set(std::initializer_list<int64_t> index, double value) {
  store(impl_->storage->data(), dtype(), element_offset(index), value);
  bump_version();
}

std::vector<double> Tensor::to_double_vector() const {
  std::vector<double> out;
  out.reserve(numel());
  const void* base = impl_->storage->data();
  DType dt = dtype();
  for_each_offset(shape(), strides(), offset(), [&](int64_t off) { out.push_back(load(base, dt, off)); });
  return out;
}

std::string Tensor::to_string(int64_t edge) const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(shape=" << shape() << ", dtype=" << dtype_name(dtype());
  if (requires_grad()) os << ", requires_grad";
  os << ")\n";
  std::vector<double> v = to_double_vector();
  const Shape& sh = shape();
  int64_t r = dim();
  bool integral = dtype() == DType::Int64 || dtype() == DType::Bool;
  Shape cs = contiguous_strides(sh);
  // Recursive printer over the contiguous copy.
  auto print = [&](auto&& self, int64_t d, int64_t base) -> void {
    if (d == r) {
      if (integral)
        os << static_cast<int64_t>(v[base]);
      else
        os << std::setprecision(6) << v[base];
      return;
    }
    os << '[';
    int64_t n = sh[d];
    for (int64_t i = 0; i < n; ++i) {
      if (n > 2 * edge && i == edge) {
        os << "...";
        i = n - edge - 1;
        if (d + 1 < r) os << ",\n" << std::string(d + 1, ' ');
        else os << ", ";
        continue;
      }
      self(self, d + 1, base + i * cs[d]);
      if (i + 1 < n) {
        if (d + 1 < r) os << ",\n" << std::string(d + 1, ' ');
        else os << ", ";
      }
    }
    os << ']';
  };
  print(print, 0, 0);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

Tensor& Tensor::requires_grad_(bool on) {
  if (on) {
    EMBER_CHECK(is_floating(dtype()), AutogradError, "requires_grad_: only floating-point tensors can require "
                "gradients, this one is ", dtype_name(dtype()));
    EMBER_CHECK(is_leaf(), AutogradError, "requires_grad_: can only be set on a leaf tensor (one made by the user, "
                "not by an op); use detach() first");
  } else {
    EMBER_CHECK(is_leaf(), AutogradError, "requires_grad_(false): cannot be called on a non-leaf tensor; use "
                "detach() instead");
  }
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

// ---- factories ----

Tensor empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    EMBER_CHECK(d >= 0, ValueError, "empty: negative dimension in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<size_t>(shape.numel()) * dtype_size(dtype));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void fill_(const Tensor& t, double value) {
  EMBER_CHECK(t.defined(), ValueError, "fill_: undefined tensor");
  if (t.is_contiguous()) {
    int64_t n = t.numel();
    dispatch_all(t.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* p = static_cast<T*>(t.raw_data());
      T v = static_cast<T>(value);
      if (value == 0.0)
        std::memset(static_cast<void*>(p), 0, n * sizeof(T));
      else
        std::fill(p, p + n, v);
    });
  } else {
    void* base = t.storage()->data();
    DType dt = t.dtype();
    for_each_offset(t.shape(), t.strides(), t.offset(), [&](int64_t off) { store(base, dt, off, value); });
  }
  t.bump_version();
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  fill_(t, 0.0);
  return t;
}
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  fill_(t, value);
  return t;
}
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }

Tensor arange(double start, double end, double step, DType dtype) {
  EMBER_CHECK(step != 0, ValueError, "arange: step must be non-zero");
  int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  if (n < 0) n = 0;
  Tensor t = empty({n}, dtype);
  void* base = t.raw_data();
  for (int64_t i = 0; i < n; ++i) store(base, dtype, i, start + i * step);
  return t;
}
Tensor arange(int64_t end, DType dtype) { return arange(0.0, static_cast<double>(end), 1.0, dtype); }

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (m < 0) m = n;
  Tensor t = zeros({n, m}, dtype);
  void* base = t.raw_data();
  for (int64_t i = 0; i < std::min(n, m); ++i) store(base, dtype, i * m + i, 1.0);
  return t;
}

namespace {
template <typename T>
Tensor from_values(const T* values, size_t count, const Shape& shape_in) {
  Shape shape = shape_in.empty() ? Shape{static_cast<int64_t>(count)} : shape_in;
  EMBER_CHECK(shape.numel() == static_cast<int64_t>(count), ShapeError, "from_vector: ", count,
              " values cannot fill shape ", shape, " (", shape.numel(), " elements)");
  Tensor t = empty(shape, dtype_of_v<T>);
  if (count) std::memcpy(t.raw_data(), values, count * sizeof(T));
  return t;
}
}  // namespace

Tensor from_vector(const std::vector<float>& v, const Shape& s) { return from_values(v.data(), v.size(), s); }
Tensor from_vector(const std::vector<double>& v, const Shape& s) { return from_values(v.data(), v.size(), s); }
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s) { return from_values(v.data(), v.size(), s); }
Tensor tensor(std::initializer_list<float> values, const Shape& shape) {
  return from_values(values.begin(), values.size(), shape);
}
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows) {
  std::vector<float> v;
  size_t cols = rows.size() ? rows.begin()->size() : 0;
  for (auto& r : rows) {
    EMBER_CHECK(r.size() == cols, ShapeError, "tensor: ragged rows (", r.size(), " vs ", cols, " values)");
    v.insert(v.end(), r.begin(), r.end());
  }
  return from_vector(v, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols)});
}
Tensor scalar_tensor(double value, DType dtype) { return full(Shape{}, value, dtype); }

Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

void copy_into(const Tensor& dst, const Tensor& src) {
  EMBER_CHECK(dst.shape() == src.shape(), ShapeError, "copy: destination shape ", dst.shape(),
              " differs from source shape ", src.shape());
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    std::memmove(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()));
  } else {
    std::vector<double> v = src.to_double_vector();
    void* base = dst.storage()->data();
    DType dt = dst.dtype();
    size_t k = 0;
    for_each_offset(dst.shape(), dst.strides(), dst.offset(), [&](int64_t off) { store(base, dt, off, v[k++]); });
  }
  dst.bump_version();
}

Tensor copy_as(const Tensor& t, DType dtype) {
  Tensor out = empty(t.shape(), dtype);
  if (dtype == t.dtype() && t.is_contiguous()) {
    std::memcpy(out.raw_data(), t.raw_data(), t.numel() * dtype_size(dtype));
    return out;
  }
  if (t.is_contiguous()) {
    int64_t n = t.numel();
    dispatch_all(t.dtype(), [&](auto s) {
      using S = decltype(s);
      const S* src = static_cast<const S*>(t.raw_data());
      dispatch_all(dtype, [&](auto d) {
        using D = decltype(d);
        D* dst = static_cast<D*>(out.raw_data());
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<D>(src[i]);
      });
    });
    return out;
  }
  // Strided: walk the source geometry, write densely.
  dispatch_all(t.dtype(), [&](auto s) {
    using S = decltype(s);
    const S* src = static_cast<const S*>(t.storage()->data());
    dispatch_all(dtype, [&](auto d) {
      using D = decltype(d);
      D* dst = static_cast<D*>(out.raw_data());
      int64_t k = 0;
      for_each_offset(t.shape(), t.strides(), t.offset(), [&](int64_t off) { dst[k++] = static_cast<D>(src[off]); });
    });
  });
  return out;
}

Tensor contiguous_data(const Tensor& t) { return t.is_contiguous() ? t : copy_as(t, t.dtype()); }

}  // namespace ember
