#include "ember/nn/basic.h"

#include <sstream>

#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"

namespace ember::nn {

Flatten::Flatten(int64_t start_dim, int64_t end_dim) : Module("Flatten"), start_(start_dim), end_(end_dim) {}

Tensor Flatten::forward(const Tensor& x) {
  EMBER_CHECK(x.defined(), ValueError, describe(), ": undefined input");
  auto norm = [&](int64_t d) { return d < 0 ? d + std::max<int64_t>(x.dim(), 1) : d; };
  int64_t s = norm(start_), e = norm(end_);
  bool ok = x.dim() == 0 ? (s == 0 && e == 0) : (s >= 0 && s < x.dim() && e >= 0 && e < x.dim() && s <= e);
  if (!ok)
    check_input_shape(x, ok, "with dimensions " + std::to_string(start_) + ".." + std::to_string(end_));
  return flatten(x, start_, end_);
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_) + ", end_dim=" + std::to_string(end_);
}

Dropout::Dropout(const DropoutOptions& options, Generator* gen)
    : Module("Dropout"), p_(options.p()), gen_(gen) {
  EMBER_CHECK(p_ >= 0.0 && p_ <= 1.0, ValueError, "Dropout: probability must be in [0, 1], got ", p_);
}

Tensor Dropout::forward(const Tensor& x) {
  return dropout(x, p_, is_training(), gen_);
}

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

Functional::Functional(Fn fn, std::string name) : Module(std::move(name)), fn_(std::move(fn)) {
  EMBER_CHECK(fn_ != nullptr, ValueError, "Functional: empty function");
}

}  // namespace ember::nn
