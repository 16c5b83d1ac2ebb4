// nn::Conv2d: 2-D convolution over NCHW images with PyTorch's parameter names ("weight" (O, I/groups, kh,
// kw), "bias" (O)) and default initialisation (kaiming_uniform_(a = sqrt(5)) on the weight,
// U(+-1/sqrt(fan_in)) on the bias). A thin module over ember::conv2d.
//
//   auto conv = std::make_shared<ember::nn::Conv2d>(
//       ember::nn::Conv2dOptions(3, 16, 3).stride(1).padding(ember::Padding::Same).bias(false));
//   auto y = conv->forward(x);   // (N, 3, H, W) -> (N, 16, H, W)
#pragma once

#include "ember/core/random.h"
#include "ember/nn/module.h"
#include "ember/ops/conv.h"

namespace ember::nn {

class Conv2dOptions {
 public:
  Conv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_(in_channels), out_(out_channels), kernel_{kernel_size, kernel_size} {}
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Pair kernel_size)
      : in_(in_channels), out_(out_channels), kernel_(kernel_size) {}
  Conv2dOptions& stride(int64_t s) { return stride(Pair{s, s}); }
  Conv2dOptions& stride(Pair s) {
    stride_ = s;
    return *this;
  }
  // An int, {ph, pw}, Padding::Same or Padding::Valid.
  Conv2dOptions& padding(Padding2d p) {
    padding_ = p;
    return *this;
  }
  Conv2dOptions& dilation(int64_t d) { return dilation(Pair{d, d}); }
  Conv2dOptions& dilation(Pair d) {
    dilation_ = d;
    return *this;
  }
  Conv2dOptions& groups(int64_t g) {
    groups_ = g;
    return *this;
  }
  Conv2dOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  Conv2dOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  Pair kernel_size() const { return kernel_; }
  Pair stride() const { return stride_; }
  const Padding2d& padding() const { return padding_; }
  Pair dilation() const { return dilation_; }
  int64_t groups() const { return groups_; }
  bool bias() const { return bias_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t in_, out_;
  Pair kernel_;
  Pair stride_{1, 1};
  Padding2d padding_{};
  Pair dilation_{1, 1};
  int64_t groups_ = 1;
  bool bias_ = true;
  DType dtype_ = DType::Float32;
};

class Conv2d : public Module {
 public:
  // `gen` draws the initial weights (the global generator when null).
  explicit Conv2d(const Conv2dOptions& options, Generator* gen = nullptr);

  // x (N, in_channels, H, W) -> (N, out_channels, OH, OW).
  Tensor forward(const Tensor& x) override;
  // Re-draws the weights with PyTorch's default initialisation.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  const Conv2dOptions& options() const { return options_; }
  // The op parameters (stride, padding, dilation, groups) this module passes to ember::conv2d.
  Conv2dParams params() const;

  Tensor weight;  // (out_channels, in_channels / groups, kh, kw)
  Tensor bias;    // (out_channels,), undefined without bias

 private:
  Conv2dOptions options_;
};

}  // namespace ember::nn
