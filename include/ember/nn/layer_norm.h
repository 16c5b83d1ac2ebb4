// nn::LayerNorm: normalises over the trailing `normalized_shape` dimensions, then an elementwise affine
// transform (weight ones, bias zeros at first), like torch.nn.LayerNorm. Calls the fused ember::layer_norm
// op.
//
//   auto ln = std::make_shared<ember::nn::LayerNorm>(ember::nn::LayerNormOptions({512}).eps(1e-5));
//   auto y = ln->forward(x);   // x (..., 512)
#pragma once

#include "ember/nn/module.h"

namespace ember::nn {

class LayerNormOptions {
 public:
  LayerNormOptions(Shape normalized_shape) : shape_(std::move(normalized_shape)) {}  // NOLINT: like PyTorch
  LayerNormOptions(std::initializer_list<int64_t> normalized_shape) : shape_(normalized_shape) {}
  LayerNormOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  LayerNormOptions& elementwise_affine(bool on) {
    affine_ = on;
    return *this;
  }
  LayerNormOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  const Shape& normalized_shape() const { return shape_; }
  double eps() const { return eps_; }
  bool elementwise_affine() const { return affine_; }
  DType dtype() const { return dtype_; }

 private:
  Shape shape_;
  double eps_ = 1e-5;
  bool affine_ = true;
  DType dtype_ = DType::Float32;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(const LayerNormOptions& options);
  Tensor forward(const Tensor& x) override;
  void reset_parameters();
  std::string extra_repr() const override;
  const LayerNormOptions& options() const { return options_; }

  Tensor weight;  // normalized_shape, undefined without elementwise_affine
  Tensor bias;

 private:
  LayerNormOptions options_;
};

}  // namespace ember::nn
