#include "ember/nn/loss.h"

namespace ember::nn {

namespace {
std::string reduction_str(Reduction r) {
  switch (r) {
    case Reduction::None:
      return "reduction=none";
    case Reduction::Sum:
      return "reduction=sum";
    default:
      return "reduction=mean";
  }
}
}  // namespace

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return mse_loss(input, target, reduction_);
}
std::string MSELoss::extra_repr() const {
  return reduction_str(reduction_);
}

CrossEntropyLoss::CrossEntropyLoss(const CrossEntropyOptions& options)
    : Loss("CrossEntropyLoss"), options_(options) {
  register_buffer("weight", options.weight());
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return cross_entropy(input, target, options_);
}
std::string CrossEntropyLoss::extra_repr() const {
  std::string s = reduction_str(options_.reduction());
  if (options_.ignore_index() != -100) s += ", ignore_index=" + std::to_string(options_.ignore_index());
  if (options_.label_smoothing() != 0) s += ", label_smoothing=" + std::to_string(options_.label_smoothing());
  return s;
}

NLLLoss::NLLLoss(const NLLLossOptions& options) : Loss("NLLLoss"), options_(options) {
  register_buffer("weight", options.weight());
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return nll_loss(input, target, options_.weight(), options_.ignore_index(), options_.reduction());
}
std::string NLLLoss::extra_repr() const {
  std::string s = reduction_str(options_.reduction());
  if (options_.ignore_index() != -100) s += ", ignore_index=" + std::to_string(options_.ignore_index());
  return s;
}

BCELoss::BCELoss(const BCELossOptions& options) : Loss("BCELoss"), options_(options) {
  register_buffer("weight", options.weight());
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy(input, target, options_.weight(), options_.reduction());
}
std::string BCELoss::extra_repr() const {
  return reduction_str(options_.reduction());
}

BCEWithLogitsLoss::BCEWithLogitsLoss(const BCEWithLogitsLossOptions& options)
    : Loss("BCEWithLogitsLoss"), options_(options) {
  register_buffer("weight", options.weight());
  register_buffer("pos_weight", options.pos_weight());
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_with_logits(input, target, options_.weight(), options_.pos_weight(),
                                          options_.reduction());
}
std::string BCEWithLogitsLoss::extra_repr() const {
  return reduction_str(options_.reduction());
}

}  // namespace ember::nn
