#include "ember/optim/arena.h"

#include <cstring>

namespace ember::optim {

namespace {
// Re-points a tensor's implementation at a contiguous slice of `storage`. Every handle shares the impl, so
// modules holding the parameter see the new location.
void repoint(const Tensor& t, const std::shared_ptr<Storage>& storage, int64_t offset) {
  TensorImpl* impl = t.impl();
  impl->storage = storage;
  impl->offset = offset;
  impl->strides = contiguous_strides(impl->shape);
}
}  // namespace

ParameterArena::ParameterArena(const std::vector<Tensor>& params) : params_(params) {
  EMBER_CHECK(!params.empty(), ValueError, "ParameterArena: empty parameter list");
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    EMBER_CHECK(p.defined(), ValueError, "ParameterArena: parameter ", i, " is undefined");
    EMBER_CHECK(p.dtype() == DType::Float32, DTypeError, "ParameterArena: parameter ", i, " is ",
                dtype_name(p.dtype()), "; the arena holds float32 parameters");
    for (size_t j = 0; j < i; ++j)
      EMBER_CHECK(!params[j].same(p), ValueError, "ParameterArena: parameter ", i, " repeats parameter ", j);
    offsets_.push_back(numel_);
    numel_ += p.numel();
  }
  size_t nbytes = static_cast<size_t>(numel_ > 0 ? numel_ : 1) * sizeof(float);
  data_ = Storage::allocate(nbytes);  // the caching allocator returns 64-byte aligned blocks
  grad_ = Storage::allocate(nbytes);
  std::memset(grad_->data(), 0, nbytes);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor dst = as_strided(flat(), p.shape(), contiguous_strides(p.shape()), offsets_[i]);
    copy_into(dst, p);
    Tensor old_grad = p.grad();
    repoint(p, data_, offsets_[i]);
    Tensor g = as_strided(flat_grad(), p.shape(), contiguous_strides(p.shape()), offsets_[i]);
    if (old_grad.defined()) copy_into(g, old_grad);
    p.impl()->grad = g.impl_ptr();
  }
}

float* ParameterArena::data() const {
  return static_cast<float*>(data_->data());
}
float* ParameterArena::grad_data() const {
  return static_cast<float*>(grad_->data());
}

Tensor ParameterArena::flat() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = data_;
  impl->shape = Shape({numel_});
  impl->strides = contiguous_strides(impl->shape);
  return Tensor(impl);
}

Tensor ParameterArena::flat_grad() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = grad_;
  impl->shape = Shape({numel_});
  impl->strides = contiguous_strides(impl->shape);
  return Tensor(impl);
}

void ParameterArena::zero_grad() {
  std::memset(grad_->data(), 0, static_cast<size_t>(numel_) * sizeof(float));
  grad_->bump_version();
}

void ParameterArena::attach_grads() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (g.defined() && g.storage() == grad_ && g.offset() == offsets_[i] && g.is_contiguous()) continue;
    Tensor slot = as_strided(flat_grad(), p.shape(), contiguous_strides(p.shape()), offsets_[i]);
    if (g.defined())
      copy_into(slot, g);
    else
      fill_(slot, 0.0);
    p.impl()->grad = slot.impl_ptr();
  }
}

bool ParameterArena::intact() const {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (p.storage() != data_ || p.offset() != offsets_[i] || !p.is_contiguous()) return false;
    Tensor g = p.grad();
    if (!g.defined() || g.storage() != grad_ || g.offset() != offsets_[i] || !g.is_contiguous()) return false;
  }
  return true;
}

}  // namespace ember::optim
