#include "ember/nn/layer_norm.h"

#include <sstream>

#include "ember/nn/init.h"
#include "ember/ops/conv.h"

namespace ember::nn {

LayerNorm::LayerNorm(const LayerNormOptions& options) : Module("LayerNorm"), options_(options) {
  EMBER_CHECK(!options.normalized_shape().empty(), ValueError,
              "LayerNorm: normalized_shape must not be empty");
  for (int64_t d : options.normalized_shape())
    EMBER_CHECK(d > 0, ValueError, "LayerNorm: normalized_shape must be positive, got ",
                options.normalized_shape());
  EMBER_CHECK(options.eps() > 0, ValueError, "LayerNorm: eps must be positive, got ", options.eps());
  const bool affine = options.elementwise_affine();
  weight =
      register_parameter("weight", affine ? empty(options.normalized_shape(), options.dtype()) : Tensor());
  bias = register_parameter("bias", affine ? empty(options.normalized_shape(), options.dtype()) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  const Shape& ns = options_.normalized_shape();
  const int64_t k = static_cast<int64_t>(ns.size());
  bool ok = x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.shape()[x.dim() - k + i] == ns[i];
  std::ostringstream want;
  want << "(..., " << ns << ")";
  check_input_shape(x, ok, want.str());
  return layer_norm(x, ns, weight, bias, options_.eps());
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << options_.normalized_shape() << ", eps=" << options_.eps()
     << ", elementwise_affine=" << (options_.elementwise_affine() ? "true" : "false");
  return os.str();
}

}  // namespace ember::nn
