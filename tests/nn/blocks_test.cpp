// ResidualBlock and InceptionBlock against PyTorch fixtures (train and eval mode), float64 gradcheck, names.
#include <gtest/gtest.h>

#include "nn/image_fixture_util.h"

using namespace ember;
using namespace image_fixture;

TEST(ResidualBlock, IdentityShortcutMatchesPyTorch) {
  nn::ResidualBlock train_block(nn::ResidualBlockOptions(3, 3));
  EXPECT_EQ(train_block.downsample, nullptr);
  check_module(train_block, "residual_identity_train");
  nn::ResidualBlock eval_block(nn::ResidualBlockOptions(3, 3));
  check_module(eval_block, "residual_identity_eval");
}

TEST(ResidualBlock, ProjectionShortcutMatchesPyTorch) {
  nn::ResidualBlock a(nn::ResidualBlockOptions(3, 4).stride(2));
  ASSERT_NE(a.downsample, nullptr);
  check_module(a, "residual_proj_train");
  nn::ResidualBlock b(nn::ResidualBlockOptions(3, 4).stride(2));
  check_module(b, "residual_proj_eval");
  nn::ResidualBlock c(nn::ResidualBlockOptions(2, 4));
  check_module(c, "residual_channels_train");
  nn::ResidualBlock f64(nn::ResidualBlockOptions(3, 4).stride(2).dtype(DType::Float64));
  check_module(f64, "residual_proj_train", DType::Float64, 1e-10);
}

TEST(ResidualBlock, TorchvisionNames) {
  nn::ResidualBlock b(nn::ResidualBlockOptions(8, 16).stride(2));
  std::vector<std::string> keys = b.state_dict().keys();
  for (const char* k :
       {"conv1.weight", "bn1.weight", "bn1.running_var", "bn2.num_batches_tracked", "conv2.weight",
        "downsample.0.weight", "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  EXPECT_EQ(b.forward(randn({2, 8, 9, 9})).shape(), Shape({2, 16, 5, 5}));
}

TEST(ResidualBlock, Gradcheck) {
  manual_seed(5);
  nn::ResidualBlock b(nn::ResidualBlockOptions(2, 3).stride(2).dtype(DType::Float64));
  b.eval();  // eval: the normalisation is a fixed affine map per channel
  for (auto& [n, buf] : b.named_buffers())
    if (n.find("running_var") != std::string::npos) fill_(buf, 1.5);
  gradcheck_module(b, randn({2, 2, 4, 4}, nullptr, DType::Float64));
  b.train();
  gradcheck_module(b, randn({3, 2, 4, 4}, nullptr, DType::Float64));
}

TEST(InceptionBlock, MatchesPyTorch) {
  nn::InceptionBlock b(nn::InceptionOptions(4, 2, 3, 4, 2, 3, 2));
  EXPECT_EQ(b.options().out_channels(), 11);
  check_module(b, "inception");
  nn::InceptionBlock f64(nn::InceptionOptions(4, 2, 3, 4, 2, 3, 2).dtype(DType::Float64));
  check_module(f64, "inception", DType::Float64, 1e-10);
}

TEST(InceptionBlock, ShapeErrorNamesThePath) {
  nn::Sequential model(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 4, 1)),
                       std::make_shared<nn::InceptionBlock>(nn::InceptionOptions(5, 2, 3, 4, 2, 3, 2)));
  try {
    model.forward(randn({1, 3, 6, 6}));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("InceptionBlock '1'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(N, 5, H, W)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(1, 4, 6, 6)"), std::string::npos) << msg;
  }
}

TEST(AnomalyMode, FirstNaNOpIsNamed) {
  // A model whose forward takes the log of a negative number: anomaly mode names the op.
  nn::Sequential model(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 1, 1)),
                       [](const Tensor& x) { return log(x); });
  auto conv = model.at<nn::Conv2d>(0);
  fill_(conv->weight, -1.0);
  fill_(conv->bias, 0.0);
  Tensor x = ones({1, 1, 2, 2});
  EXPECT_NO_THROW(model.forward(x));  // off: NaN passes silently
  AnomalyMode::set_enabled(true);
  try {
    model.forward(x);
    AnomalyMode::set_enabled(false);
    FAIL() << "no anomaly error";
  } catch (const AutogradError& e) {
    AnomalyMode::set_enabled(false);
    std::string msg = e.what();
    EXPECT_NE(msg.find("log"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  }
}
