#include "ember/nn/linear.h"

#include <cmath>

#include "ember/nn/init.h"
#include "ember/ops/nn_ops.h"

namespace ember::nn {

Linear::Linear(const LinearOptions& options, Generator* gen) : Module("Linear"), options_(options) {
  EMBER_CHECK(options.in_features() >= 0 && options.out_features() >= 0, ValueError,
              "Linear: feature counts must be non-negative, got in_features=", options.in_features(),
              ", out_features=", options.out_features());
  weight =
      register_parameter("weight", empty({options.out_features(), options.in_features()}, options.dtype()));
  bias = register_parameter("bias",
                            options.bias() ? empty({options.out_features()}, options.dtype()) : Tensor());
  reset_parameters(gen);
}

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias, Generator* gen)
    : Linear(LinearOptions(in_features, out_features).bias(with_bias), gen) {}

void Linear::reset_parameters(Generator* gen) {
  // PyTorch's choice: kaiming_uniform_(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight.
  if (options_.in_features() > 0)
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (bias.defined()) {
    double bound =
        options_.in_features() > 0 ? 1.0 / std::sqrt(static_cast<double>(options_.in_features())) : 0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

void Linear::check_input(const Tensor& x) const {
  // The message is only built on failure (no string work per call).
  if (x.defined() && x.dim() >= 1 && x.shape().back() == options_.in_features()) return;
  check_input_shape(x, -1, -1, options_.in_features(),
                    "(..., " + std::to_string(options_.in_features()) + ")");
}

Tensor Linear::forward(const Tensor& x) {
  check_input(x);
  return linear(x, weight, bias, &cache_);
}

Tensor Linear::forward_relu(const Tensor& x) {
  check_input(x);
  return linear_relu(x, weight, bias, &cache_);
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(options_.in_features()) +
         ", out_features=" + std::to_string(options_.out_features()) +
         ", bias=" + (bias.defined() ? "true" : "false");
}

}  // namespace ember::nn
