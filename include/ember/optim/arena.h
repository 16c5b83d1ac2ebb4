// ParameterArena: packs float32 parameters, and their gradients, into two contiguous 64-byte-aligned buffers
// and re-points each parameter tensor at its slice (every handle to the parameter sees the move, values are
// kept). Backward then accumulates straight into the gradient buffer, an optimizer step over the arena is one
// vectorised loop (optimizers detect the adjacency by themselves) and a checkpoint can write one block.
//
//   auto params = model->parameters();
//   ember::optim::ParameterArena arena(params);          // build once, right after the model
//   ember::optim::Adam opt(params, ember::optim::AdamOptions(1e-3));
//   opt.zero_grad();  loss.backward();  opt.step();      // zero_grad zeroes in place: grads stay in the
//   arena arena.flat();  arena.flat_grad();                    // 1-D views over all values / gradients
//
// Views of a parameter taken before packing keep pointing at the old memory; build the arena first.
// zero_grad(set_to_none=true) detaches gradients from the arena; attach_grads() puts them back.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim {

class ParameterArena {
 public:
  ParameterArena() = default;
  // Throws ValueError on an empty list, a repeated parameter or a non-float32 one.
  explicit ParameterArena(const std::vector<Tensor>& params);

  size_t size() const { return params_.size(); }
  int64_t numel() const { return numel_; }
  const std::vector<Tensor>& params() const { return params_; }
  // Element offset of parameter i in the arena.
  int64_t offset(size_t i) const { return offsets_.at(i); }
  float* data() const;
  float* grad_data() const;
  Tensor flat() const;
  Tensor flat_grad() const;
  // Zeroes the whole gradient buffer with one memset.
  void zero_grad();
  // Points every parameter's gradient at its arena slice again (keeping the buffer's values).
  void attach_grads();
  // True when every parameter and gradient still lives at its arena slice.
  bool intact() const;

 private:
  std::vector<Tensor> params_;
  std::vector<int64_t> offsets_;
  int64_t numel_ = 0;
  std::shared_ptr<Storage> data_, grad_;
};

}  // namespace ember::optim
