#include "ember/nn/blocks.h"

#include "ember/nn/activation.h"
#include "ember/nn/pooling.h"
#include "ember/ops/conv.h"
#include "ember/ops/ops.h"

namespace ember::nn {

ResidualBlock::ResidualBlock(const ResidualBlockOptions& o, Generator* gen)
    : Module("ResidualBlock"), options_(o) {
  EMBER_CHECK(o.in_channels() > 0 && o.out_channels() > 0 && o.stride() > 0, ValueError,
              "ResidualBlock: channels and stride must be positive, got in_channels=", o.in_channels(),
              ", out_channels=", o.out_channels(), ", stride=", o.stride());
  const DType dt = o.dtype();
  conv1 =
      register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions(o.in_channels(), o.out_channels(), 3)
                                                            .stride(o.stride())
                                                            .padding(1)
                                                            .bias(false)
                                                            .dtype(dt),
                                                        gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(BatchNormOptions(o.out_channels()).dtype(dt)));
  conv2 = register_module(
      "conv2",
      std::make_shared<Conv2d>(
          Conv2dOptions(o.out_channels(), o.out_channels(), 3).padding(1).bias(false).dtype(dt), gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(BatchNormOptions(o.out_channels()).dtype(dt)));
  if (o.stride() != 1 || o.in_channels() != o.out_channels()) {
    downsample = register_module(
        "downsample",
        std::make_shared<Sequential>(
            std::make_shared<Conv2d>(
                Conv2dOptions(o.in_channels(), o.out_channels(), 1).stride(o.stride()).bias(false).dtype(dt),
                gen),
            std::make_shared<BatchNorm2d>(BatchNormOptions(o.out_channels()).dtype(dt))));
  }
}

Tensor ResidualBlock::forward(const Tensor& x) {
  check_input_shape(x, 4, 1, options_.in_channels(),
                    "(N, " + std::to_string(options_.in_channels()) + ", H, W)");
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  Tensor identity = downsample ? downsample->forward(x) : x;
  return relu(add(out, identity));
}

namespace {
std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int64_t k, DType dt, Generator* gen) {
  return std::make_shared<Conv2d>(Conv2dOptions(in, out, k).padding(k / 2).dtype(dt), gen);
}
// conv + ReLU fused, using the module's parameters.
Tensor conv_relu(const Sequential& seq, int64_t index, const Tensor& x) {
  auto conv = seq.at<Conv2d>(index);
  return conv2d_relu(x, conv->weight, conv->bias, conv->params());
}
}  // namespace

InceptionBlock::InceptionBlock(const InceptionOptions& o, Generator* gen)
    : Module("InceptionBlock"), options_(o) {
  EMBER_CHECK(o.in_channels() > 0 && o.ch1x1() > 0 && o.ch3x3_reduce() > 0 && o.ch3x3() > 0 &&
                  o.ch5x5_reduce() > 0 && o.ch5x5() > 0 && o.pool_proj() > 0,
              ValueError, "InceptionBlock: all channel counts must be positive");
  const DType dt = o.dtype();
  branch1 = register_module("branch1",
                            std::make_shared<Sequential>(make_conv(o.in_channels(), o.ch1x1(), 1, dt, gen),
                                                         std::make_shared<ReLU>()));
  branch2 = register_module(
      "branch2", std::make_shared<Sequential>(
                     make_conv(o.in_channels(), o.ch3x3_reduce(), 1, dt, gen), std::make_shared<ReLU>(),
                     make_conv(o.ch3x3_reduce(), o.ch3x3(), 3, dt, gen), std::make_shared<ReLU>()));
  branch3 = register_module(
      "branch3", std::make_shared<Sequential>(
                     make_conv(o.in_channels(), o.ch5x5_reduce(), 1, dt, gen), std::make_shared<ReLU>(),
                     make_conv(o.ch5x5_reduce(), o.ch5x5(), 5, dt, gen), std::make_shared<ReLU>()));
  branch4 = register_module(
      "branch4", std::make_shared<Sequential>(
                     std::make_shared<MaxPool2d>(MaxPool2dOptions(3).stride(1).padding(1)),
                     make_conv(o.in_channels(), o.pool_proj(), 1, dt, gen), std::make_shared<ReLU>()));
}

Tensor InceptionBlock::forward(const Tensor& x) {
  check_input_shape(x, 4, 1, options_.in_channels(),
                    "(N, " + std::to_string(options_.in_channels()) + ", H, W)");
  Tensor b1 = conv_relu(*branch1, 0, x);
  Tensor b2 = conv_relu(*branch2, 2, conv_relu(*branch2, 0, x));
  Tensor b3 = conv_relu(*branch3, 2, conv_relu(*branch3, 0, x));
  Tensor b4 = conv_relu(*branch4, 1, branch4->at<MaxPool2d>(0)->forward(x));
  return concat({b1, b2, b3, b4}, 1);
}

}  // namespace ember::nn
