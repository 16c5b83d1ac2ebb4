// Activation modules. Kept in their own file: the ops they call live in the elementwise family.
#include "ember/nn/activation.h"

#include <sstream>

#include "ember/ops/ops.h"

namespace ember::nn {

Tensor ReLU::forward(const Tensor& x) {
  return relu(x);
}

Tensor LeakyReLU::forward(const Tensor& x) {
  return leaky_relu(x, slope_);
}

std::string LeakyReLU::extra_repr() const {
  std::ostringstream os;
  os << "negative_slope=" << slope_;
  return os.str();
}

Tensor Sigmoid::forward(const Tensor& x) {
  return sigmoid(x);
}

Tensor Tanh::forward(const Tensor& x) {
  return tanh(x);
}

Tensor Softmax::forward(const Tensor& x) {
  check_input_shape(x, x.dim() > 0 && dim_ >= -x.dim() && dim_ < x.dim(),
                    "with dimension " + std::to_string(dim_));
  return softmax(x, dim_);
}

Tensor LogSoftmax::forward(const Tensor& x) {
  check_input_shape(x, x.dim() > 0 && dim_ >= -x.dim() && dim_ < x.dim(),
                    "with dimension " + std::to_string(dim_));
  return log_softmax(x, dim_);
}

GELU::GELU(std::string approximate) : Module("GELU"), approximate_(std::move(approximate)) {
  EMBER_CHECK(approximate_ == "none" || approximate_ == "tanh", ValueError,
              "GELU: approximate must be 'none' or 'tanh', got '", approximate_, "'");
}

Tensor GELU::forward(const Tensor& x) {
  return gelu(x, approximate_);
}

std::string GELU::extra_repr() const {
  return approximate_ == "none" ? "" : "approximate='" + approximate_ + "'";
}

}  // namespace ember::nn
