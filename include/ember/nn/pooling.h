// Pooling modules over NCHW images (and (N, T, C) sequences for GlobalAvgPool1d), thin wrappers of the ops in
// ember/ops/conv.h with PyTorch's options and Keras' global pooling shapes.
//
//   auto pool = std::make_shared<ember::nn::MaxPool2d>(ember::nn::MaxPool2dOptions(2));       // stride 2
//   auto avg = std::make_shared<ember::nn::AvgPool2d>(ember::nn::AvgPool2dOptions(3).stride(1).padding(1));
//   auto gap = std::make_shared<ember::nn::GlobalAvgPool2d>();                                //
//   (N,C,H,W)->(N,C) auto y = gap->forward(pool->forward(x));
#pragma once

#include <optional>

#include "ember/nn/module.h"
#include "ember/ops/conv.h"

namespace ember::nn {

// Options shared by MaxPool2d and AvgPool2d: kernel, stride (default: the kernel), padding, ceil_mode.
template <typename Derived>
class Pool2dOptionsBase {
 public:
  explicit Pool2dOptionsBase(int64_t kernel) : kernel_{kernel, kernel} {}
  explicit Pool2dOptionsBase(Pair kernel) : kernel_(kernel) {}
  Derived& stride(int64_t s) { return stride(Pair{s, s}); }
  Derived& stride(Pair s) {
    stride_ = s;
    return self();
  }
  Derived& padding(int64_t p) { return padding(Pair{p, p}); }
  Derived& padding(Pair p) {
    padding_ = p;
    return self();
  }
  Derived& ceil_mode(bool on) {
    ceil_mode_ = on;
    return self();
  }
  Pair kernel_size() const { return kernel_; }
  Pair stride() const { return stride_.value_or(kernel_); }
  Pair padding() const { return padding_; }
  bool ceil_mode() const { return ceil_mode_; }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  Pair kernel_;
  std::optional<Pair> stride_;
  Pair padding_{0, 0};
  bool ceil_mode_ = false;
};

class MaxPool2dOptions : public Pool2dOptionsBase<MaxPool2dOptions> {
 public:
  using Pool2dOptionsBase::Pool2dOptionsBase;
};

class AvgPool2dOptions : public Pool2dOptionsBase<AvgPool2dOptions> {
 public:
  using Pool2dOptionsBase::Pool2dOptionsBase;
  // Whether zero padding counts in the divisor (PyTorch's default: true).
  AvgPool2dOptions& count_include_pad(bool on) {
    count_include_pad_ = on;
    return *this;
  }
  bool count_include_pad() const { return count_include_pad_; }

 private:
  bool count_include_pad_ = true;
};

// (N, C, H, W) -> (N, C, OH, OW), the maximum of each window.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  const MaxPool2dOptions& options() const { return options_; }

 private:
  MaxPool2dOptions options_;
};

// (N, C, H, W) -> (N, C, OH, OW), the mean of each window.
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  const AvgPool2dOptions& options() const { return options_; }

 private:
  AvgPool2dOptions options_;
};

// (N, C, H, W) -> (N, C, oh, ow) with PyTorch's adaptive windows.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Pair output_size);
  explicit AdaptiveAvgPool2d(int64_t output_size) : AdaptiveAvgPool2d(Pair{output_size, output_size}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Pair output_size() const { return output_size_; }

 private:
  Pair output_size_;
};

// (N, C, H, W) -> (N, C): mean over the spatial axes (Keras GlobalAveragePooling2D).
class GlobalAvgPool2d : public Module {
 public:
  GlobalAvgPool2d() : Module("GlobalAvgPool2d") {}
  Tensor forward(const Tensor& x) override;
};

// (N, T, C) -> (N, C): mean over time (Keras GlobalAveragePooling1D).
class GlobalAvgPool1d : public Module {
 public:
  GlobalAvgPool1d() : Module("GlobalAvgPool1d") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace ember::nn
