// Tensor: an n-dimensional array with a shape, strides and an offset into a shared Storage, plus the
// autograd fields (requires_grad, grad, grad_fn). Copying a Tensor copies a handle, not the data.
//
//   auto x = ember::randn({2, 3});                  // float32, from the global seeded generator
//   auto w = ember::zeros({3, 4}).requires_grad_(); // a leaf whose gradient will be kept
//   x.at<float>({1, 2});  x.shape();  std::cout << x;
//
// Differentiable operations on tensors live in <ember/ops/ops.h>; backward() in the autograd layer.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/shape.h"
#include "ember/core/storage.h"

namespace ember {

namespace autograd {
class Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  // Autograd. A leaf has no grad_fn; an op result that depends on a requires_grad input has one.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::weak_ptr<autograd::Node> grad_accumulator;  // cached AccumulateGrad node of a leaf
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  DType dtype() const { return impl_->dtype; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  // Extent along `axis` (negative counts from the end).
  int64_t size(int64_t axis) const;
  int64_t numel() const { return impl_->shape.numel(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // Pointer to the first element; throws DTypeError if T does not match dtype().
  template <typename T>
  T* data() const {
    check_dtype(dtype_of_v<T>, "data");
    return static_cast<T*>(impl_->storage->data()) + impl_->offset;
  }
  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
  }

  // Element access (any dtype, converted; intended for tests, tools and printing, not hot loops).
  double item() const;
  template <typename T>
  T item() const { return static_cast<T>(item()); }
  double at(std::initializer_list<int64_t> index) const;
  template <typename T>
  T at(std::initializer_list<int64_t> index) const { return static_cast<T>(at(index)); }
  void set(std::initializer_list<int64_t> index, double value);
  // All elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const {
    std::vector<double> v = to_double_vector();
    return std::vector<T>(v.begin(), v.end());
  }
  std::vector<double> to_double_vector() const;
  // "tensor(shape=(2, 3), dtype=float32)\n[[...]]", at most `edge` values shown at each end of a dimension.
  std::string to_string(int64_t edge = 3) const;

  // Autograd state (the engine itself is in the autograd layer).
  bool requires_grad() const { return impl_->requires_grad; }
  // Marks a leaf as needing a gradient. Throws AutogradError on a non-leaf or a non-floating tensor.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl_->grad_fn; }
  // The accumulated gradient (undefined until a backward pass reached this tensor).
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  // Drops the gradient (like PyTorch's set_to_none=True).
  void zero_grad() { impl_->grad.reset(); }
  // A tensor sharing this one's data but outside the graph.
  Tensor detach() const;
  // Runs reverse-mode differentiation from this tensor. Without `grad`, the tensor must have one element.
  // The graph is freed afterwards unless retain_graph; defined in the autograd layer.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  // Records an in-place write to the data (see Storage::version).
  void bump_version() const { impl_->storage->bump_version(); }

  void check_dtype(DType expected, const char* what) const;

 private:
  int64_t element_offset(std::initializer_list<int64_t> index) const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- construction (no autograd) ----
// A tensor with fresh, uninitialised storage from the caching allocator.
Tensor empty(const Shape& shape, DType dtype = DType::Float32);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// Values start, start+step, ... below end (like torch.arange).
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::Float32);
Tensor arange(int64_t end, DType dtype = DType::Int64);
Tensor eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32);
// Copies `values` into a new tensor of `shape` (default: 1-D). Throws ShapeError when the counts differ.
Tensor from_vector(const std::vector<float>& values, const Shape& shape = {});
Tensor from_vector(const std::vector<double>& values, const Shape& shape = {});
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape = {});
Tensor tensor(std::initializer_list<float> values, const Shape& shape = {});
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows);
Tensor scalar_tensor(double value, DType dtype = DType::Float32);
// A view of `base`'s storage with the given geometry (no copy, no autograd).
Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);
// A contiguous copy of `t` with element type `dtype` (no autograd).
Tensor copy_as(const Tensor& t, DType dtype);
// `t` itself if contiguous, else a contiguous copy (no autograd).
Tensor contiguous_data(const Tensor& t);
// Copies src's values into dst (same shape; dtypes are converted; no autograd). Bumps dst's version.
void copy_into(const Tensor& dst, const Tensor& src);
// Fills every element of t (bumps the version).
void fill_(const Tensor& t, double value);

}  // namespace ember
