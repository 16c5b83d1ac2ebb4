// BatchNorm1d/2d against PyTorch fixtures in train mode (outputs, gradients, running statistics and
// num_batches_tracked after the step) and eval mode; float64 gradcheck; shape errors.
#include <gtest/gtest.h>

#include "nn/image_fixture_util.h"

using namespace ember;
using namespace image_fixture;

TEST(BatchNormModules, BatchNorm2dMatchesPyTorch) {
  nn::BatchNorm2d train_bn(3);
  check_module(train_bn, "bn2d_train");
  EXPECT_EQ(train_bn.num_batches_tracked.item<int64_t>(), 4);
  nn::BatchNorm2d eval_bn(3);
  check_module(eval_bn, "bn2d_eval");
  EXPECT_EQ(eval_bn.num_batches_tracked.item<int64_t>(), 3);  // eval does not count
  nn::BatchNorm2d m(nn::BatchNormOptions(3).eps(1e-3).momentum(0.3));
  check_module(m, "bn2d_momentum_eps");
  nn::BatchNorm2d cma(nn::BatchNormOptions(3).momentum(std::nullopt));
  check_module(cma, "bn2d_momentum_none");
  nn::BatchNorm2d f64(nn::BatchNormOptions(3).dtype(DType::Float64));
  check_module(f64, "bn2d_train", DType::Float64, 1e-10);
}

TEST(BatchNormModules, OptionsMatchPyTorch) {
  nn::BatchNorm2d noaffine(nn::BatchNormOptions(3).affine(false));
  EXPECT_TRUE(noaffine.parameters().empty());
  check_module(noaffine, "bn2d_noaffine");
  nn::BatchNorm2d notrack(nn::BatchNormOptions(3).track_running_stats(false));
  EXPECT_TRUE(notrack.buffers().empty());
  check_module(notrack, "bn2d_no_track_eval");  // eval without running stats uses the batch statistics
}

TEST(BatchNormModules, BatchNorm1dMatchesPyTorch) {
  nn::BatchNorm1d a(4);
  check_module(a, "bn1d_train_2d");
  nn::BatchNorm1d b(4);
  check_module(b, "bn1d_train_3d");
  nn::BatchNorm1d c(4);
  check_module(c, "bn1d_eval_3d");
}

TEST(BatchNormModules, DefaultStateAndNames) {
  nn::BatchNorm2d bn(5);
  auto sd = bn.state_dict();
  EXPECT_EQ(sd.keys(), (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                                 "num_batches_tracked"}));
  EXPECT_EQ(bn.weight.to_double_vector(), std::vector<double>(5, 1.0));
  EXPECT_EQ(bn.bias.to_double_vector(), std::vector<double>(5, 0.0));
  EXPECT_EQ(bn.running_var.to_double_vector(), std::vector<double>(5, 1.0));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::Int64);
  bn.forward(randn({4, 5, 2, 2}));
  EXPECT_NE(bn.running_var.to_double_vector(), std::vector<double>(5, 1.0));
  bn.reset_running_stats();
  EXPECT_EQ(bn.running_var.to_double_vector(), std::vector<double>(5, 1.0));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
}

TEST(BatchNormModules, Gradcheck) {
  manual_seed(3);
  nn::BatchNorm2d bn(nn::BatchNormOptions(3).dtype(DType::Float64));
  nn::init::normal_(bn.weight);
  nn::init::normal_(bn.bias);
  // Training output depends on the batch statistics only (the running ones update on the side).
  gradcheck_module(bn, randn({3, 3, 2, 2}, nullptr, DType::Float64));
  bn.eval();
  gradcheck_module(bn, randn({3, 3, 2, 2}, nullptr, DType::Float64));
}

TEST(BatchNormModules, ShapeErrors) {
  nn::Sequential model(std::make_shared<nn::BatchNorm2d>(4));
  try {
    model.forward(randn({2, 3, 5, 5}));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("BatchNorm2d '0'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(N, 4, H, W)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 3, 5, 5)"), std::string::npos) << msg;
  }
  EXPECT_THROW(nn::BatchNorm1d(4).forward(randn({2, 4, 3, 3})), ShapeError);
  EXPECT_THROW(nn::BatchNorm1d(4).forward(randn({2, 3})), ShapeError);
}
