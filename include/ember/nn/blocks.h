// Composite image blocks with torchvision's state_dict names.
// ResidualBlock: ResNet's BasicBlock, relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) with 3x3 convs
// (no bias); the shortcut is the identity, or "downsample" = Sequential(1x1 conv with the stride,
// BatchNorm2d) when the stride is not 1 or the channel count changes. InceptionBlock: GoogLeNet's inception
// module, four branches concatenated on the channels in this order: branch1 1x1; branch2 1x1 reduce -> 3x3
// (pad 1); branch3 1x1 reduce -> 5x5 (pad 2); branch4 3x3 max pool (stride 1, pad 1) -> 1x1 pool projection;
// every conv has a bias and is followed by ReLU.
//
//   auto block = std::make_shared<ember::nn::ResidualBlock>(ember::nn::ResidualBlockOptions(64,
//   128).stride(2)); auto y = block->forward(x);   // (N, 64, H, W) -> (N, 128, H/2, W/2) auto inc =
//   std::make_shared<ember::nn::InceptionBlock>(ember::nn::InceptionOptions(192, 64, 96, 128, 16, 32, 32));
//   auto z = inc->forward(x2);    // (N, 192, H, W) -> (N, 256, H, W)
#pragma once

#include "ember/core/random.h"
#include "ember/nn/batch_norm.h"
#include "ember/nn/container.h"
#include "ember/nn/conv.h"
#include "ember/nn/module.h"

namespace ember::nn {

class ResidualBlockOptions {
 public:
  ResidualBlockOptions(int64_t in_channels, int64_t out_channels) : in_(in_channels), out_(out_channels) {}
  ResidualBlockOptions& stride(int64_t s) {
    stride_ = s;
    return *this;
  }
  ResidualBlockOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  int64_t stride() const { return stride_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t in_, out_;
  int64_t stride_ = 1;
  DType dtype_ = DType::Float32;
};

class ResidualBlock : public Module {
 public:
  explicit ResidualBlock(const ResidualBlockOptions& options, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  const ResidualBlockOptions& options() const { return options_; }

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> downsample;  // null for the identity shortcut

 private:
  ResidualBlockOptions options_;
};

class InceptionOptions {
 public:
  InceptionOptions(int64_t in_channels, int64_t ch1x1, int64_t ch3x3_reduce, int64_t ch3x3,
                   int64_t ch5x5_reduce, int64_t ch5x5, int64_t pool_proj)
      : in_(in_channels),
        c1_(ch1x1),
        c3r_(ch3x3_reduce),
        c3_(ch3x3),
        c5r_(ch5x5_reduce),
        c5_(ch5x5),
        pp_(pool_proj) {}
  InceptionOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t in_channels() const { return in_; }
  int64_t ch1x1() const { return c1_; }
  int64_t ch3x3_reduce() const { return c3r_; }
  int64_t ch3x3() const { return c3_; }
  int64_t ch5x5_reduce() const { return c5r_; }
  int64_t ch5x5() const { return c5_; }
  int64_t pool_proj() const { return pp_; }
  // ch1x1 + ch3x3 + ch5x5 + pool_proj.
  int64_t out_channels() const { return c1_ + c3_ + c5_ + pp_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t in_, c1_, c3r_, c3_, c5r_, c5_, pp_;
  DType dtype_ = DType::Float32;
};

class InceptionBlock : public Module {
 public:
  explicit InceptionBlock(const InceptionOptions& options, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  const InceptionOptions& options() const { return options_; }

  // branch1 = (Conv2d, ReLU); branch2, branch3 = (Conv2d, ReLU, Conv2d, ReLU); branch4 = (MaxPool2d, Conv2d,
  // ReLU). The forward fuses each ReLU into its convolution.
  std::shared_ptr<Sequential> branch1, branch2, branch3, branch4;

 private:
  InceptionOptions options_;
};

}  // namespace ember::nn
