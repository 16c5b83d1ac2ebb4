// Gradient clipping like torch.nn.utils.clip_grad_norm_ / clip_grad_value_, in place on the parameters'
// .grad.
//
//   double total = ember::optim::clip_grad_norm_(model->parameters(), 1.0);       // 2-norm over all grads
//   ember::optim::clip_grad_norm_(params, 5.0, ember::optim::kInfNorm);          // max |g|
//   ember::optim::clip_grad_value_(params, 0.5);                                  // g = clamp(g, -0.5, 0.5)
#pragma once

#include <limits>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Scales all gradients by min(1, max_norm / (total_norm + 1e-6)) where total_norm is the norm_type-norm of
// all gradients together (parameters without a gradient are skipped) and returns total_norm (0 if no
// gradient). Throws ValueError for norm_type <= 0 or, when error_if_nonfinite, a NaN/inf total norm.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
// Clamps every gradient element to [-clip_value, clip_value]. Throws ValueError for a negative clip_value.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace ember::optim
