// Loss modules against PyTorch fixtures (values and input gradients), buffers, and the two-tensor call.
#include <gtest/gtest.h>

#include "nn/image_fixture_util.h"

using namespace ember;
using namespace image_fixture;

namespace {

bool is_index_target(const std::string& name) {
  return name.rfind("ce_", 0) == 0 && name != "ce_probs" ? true : name.rfind("nll", 0) == 0;
}

void check_loss(nn::Loss& loss, const std::string& name, DType dt = DType::Float32, double tol = 1e-4) {
  SCOPED_TRACE(name);
  const json& c = find_case("losses", name);
  Tensor x = load(c.at("input"), dt).requires_grad_();
  Tensor t = load(c.at("target"), is_index_target(name) ? DType::Int64 : dt);
  Tensor y = loss(x, t);
  expect_close(y, c.at("output"), tol, name + " output");
  y.backward(load(c.at("R"), dt));
  expect_close(x.grad(), c.at("grad_input"), tol, name + " grad input");
}

Tensor fixture_tensor(const std::string& name, const std::string& key, DType dt = DType::Float32) {
  return load(find_case("losses", name).at(key), dt);
}

}  // namespace

TEST(LossModules, MSELoss) {
  nn::MSELoss mean;
  check_loss(mean, "mse_mean");
  check_loss(mean, "mse_mean", DType::Float64, 1e-10);
  nn::MSELoss none(nn::Reduction::None);
  check_loss(none, "mse_none");
}

TEST(LossModules, CrossEntropyLoss) {
  nn::CrossEntropyLoss weighted(nn::CrossEntropyOptions()
                                    .weight(fixture_tensor("ce_weight_smooth_ignore", "weight"))
                                    .label_smoothing(0.1));
  EXPECT_EQ(weighted.state_dict().keys(), std::vector<std::string>{"weight"});
  check_loss(weighted, "ce_weight_smooth_ignore");
  nn::CrossEntropyLoss sum(nn::CrossEntropyOptions().ignore_index(2).reduction(nn::Reduction::Sum));
  EXPECT_TRUE(sum.state_dict().empty());
  check_loss(sum, "ce_sum_ignore2");
  nn::CrossEntropyLoss plain;
  check_loss(plain, "ce_probs");
  check_loss(plain, "ce_spatial");
  check_loss(plain, "ce_spatial", DType::Float64, 1e-10);
}

TEST(LossModules, NLLLoss) {
  nn::NLLLoss m(nn::NLLLossOptions().weight(fixture_tensor("nll_weight", "weight")));
  check_loss(m, "nll_weight");
}

TEST(LossModules, BCELosses) {
  nn::BCELoss bce(nn::BCELossOptions().weight(fixture_tensor("bce_weight", "weight")));
  check_loss(bce, "bce_weight");
  nn::BCEWithLogitsLoss logits(nn::BCEWithLogitsLossOptions()
                                   .pos_weight(fixture_tensor("bce_logits_pos_weight", "pos_weight"))
                                   .reduction(nn::Reduction::Sum));
  EXPECT_EQ(logits.state_dict().keys(), std::vector<std::string>{"pos_weight"});
  check_loss(logits, "bce_logits_pos_weight");
}

TEST(LossModules, ErrorsNameTheLoss) {
  nn::CrossEntropyLoss ce;
  EXPECT_THROW(ce.forward(randn({4, 3}), from_vector(std::vector<int64_t>{0, 1}, {2})), ShapeError);
  nn::Module& as_module = ce;
  EXPECT_THROW(as_module.forward(randn({4, 3})), ValueError);  // a loss needs a target
}
