#include "ember/optim/clip_grad.h"

#include <algorithm>
#include <cmath>

namespace ember::optim {

namespace {
void check_grad(const Tensor& g, const char* who) {
  EMBER_CHECK(g.dtype() == DType::Float32, DTypeError, who, ": gradients must be float32, got ",
              dtype_name(g.dtype()));
  EMBER_CHECK(g.is_contiguous(), ValueError, who, ": gradient of shape ", g.shape(), " is not contiguous");
}
}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  EMBER_CHECK(norm_type > 0, ValueError, "clip_grad_norm_: norm_type must be positive (or infinity), got ",
              norm_type);
  std::vector<Tensor> grads;
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    check_grad(g, "clip_grad_norm_");
    grads.push_back(g);
  }
  if (grads.empty()) return 0.0;
  // Accumulate in double: the norm of a large model's gradients summed in float loses digits.
  double acc = 0.0;
  const bool inf_norm = std::isinf(norm_type);
  for (const auto& g : grads) {
    const float* d = g.data<float>();
    const int64_t n = g.numel();
    if (inf_norm) {
      for (int64_t i = 0; i < n; ++i) acc = std::max(acc, static_cast<double>(std::fabs(d[i])));
    } else if (norm_type == 2.0) {
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(d[i]) * d[i];
    } else if (norm_type == 1.0) {
      for (int64_t i = 0; i < n; ++i) acc += std::fabs(static_cast<double>(d[i]));
    } else {
      for (int64_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(d[i])), norm_type);
    }
  }
  double total = inf_norm ? acc : std::pow(acc, 1.0 / norm_type);
  EMBER_CHECK(!error_if_nonfinite || std::isfinite(total), ValueError,
              "clip_grad_norm_: the total norm of order ", norm_type, " of the gradients is non-finite (",
              total, ")");
  // PyTorch computes the coefficient in float32 and always multiplies (a factor of 1 changes nothing).
  float tn = static_cast<float>(total);
  float coef = static_cast<float>(max_norm) / (tn + 1e-6f);
  if (coef < 1.0f) {
    for (const auto& g : grads) {
      float* d = g.data<float>();
      const int64_t n = g.numel();
      for (int64_t i = 0; i < n; ++i) d[i] *= coef;
      g.bump_version();
    }
  }
  return static_cast<double>(tn);
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  EMBER_CHECK(clip_value >= 0, ValueError, "clip_grad_value_: clip_value must be non-negative, got ",
              clip_value);
  const float c = static_cast<float>(clip_value);
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    check_grad(g, "clip_grad_value_");
    float* d = g.data<float>();
    const int64_t n = g.numel();
    for (int64_t i = 0; i < n; ++i) d[i] = std::min(std::max(d[i], -c), c);
    g.bump_version();
  }
}

}  // namespace ember::optim
