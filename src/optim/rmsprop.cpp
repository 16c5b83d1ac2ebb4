#include "ember/optim/rmsprop.h"

#include <cmath>

namespace ember::optim {

OptionMap RMSpropOptions::to_map() const {
  return {{"lr", lr_},
          {"alpha", alpha_},
          {"eps", eps_},
          {"weight_decay", weight_decay_},
          {"momentum", momentum_},
          {"centered", centered_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

RMSprop::RMSprop(const std::vector<Tensor>& params, const RMSpropOptions& options)
    : RMSprop({ParamGroup{params, {}}}, options) {}

RMSprop::RMSprop(const std::vector<ParamGroup>& groups, const RMSpropOptions& defaults)
    : Optimizer(defaults.to_map()) {
  init_groups(groups);
}

void RMSprop::check_options(const OptionMap& o) const {
  EMBER_CHECK(opt(o, "lr") >= 0, ValueError, "RMSprop: Invalid learning rate: ", opt(o, "lr"));
  EMBER_CHECK(opt(o, "eps") >= 0, ValueError, "RMSprop: Invalid epsilon value: ", opt(o, "eps"));
  EMBER_CHECK(opt(o, "momentum") >= 0, ValueError, "RMSprop: Invalid momentum value: ", opt(o, "momentum"));
  EMBER_CHECK(opt(o, "weight_decay") >= 0, ValueError,
              "RMSprop: Invalid weight_decay value: ", opt(o, "weight_decay"));
  EMBER_CHECK(opt(o, "alpha") >= 0, ValueError, "RMSprop: Invalid alpha value: ", opt(o, "alpha"));
}

std::vector<std::string> RMSprop::buffer_names(const OptionMap& o) const {
  std::vector<std::string> names{"square_avg"};
  if (opt(o, "momentum") > 0) names.push_back("momentum_buffer");
  if (opt(o, "centered") != 0) names.push_back("grad_avg");
  return names;
}

// f: 0 -lr, 1 alpha, 2 1-alpha, 3 eps, 4 weight_decay, 5 momentum; flag: 0 momentum, 1 centered, 2 maximize
Optimizer::Scalars RMSprop::prepare(const OptionMap& o, int64_t step) const {
  Scalars s;
  s.f[0] = static_cast<float>(-opt(o, "lr"));
  s.f[1] = static_cast<float>(opt(o, "alpha"));
  s.f[2] = static_cast<float>(1.0 - opt(o, "alpha"));
  s.f[3] = static_cast<float>(opt(o, "eps"));
  s.f[4] = static_cast<float>(opt(o, "weight_decay"));
  s.f[5] = static_cast<float>(opt(o, "momentum"));
  s.flag[0] = opt(o, "momentum") > 0;
  s.flag[1] = opt(o, "centered") != 0;
  s.flag[2] = opt(o, "maximize") != 0;
  s.step = step;
  return s;
}

void RMSprop::update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const {
  const float neg_lr = s.f[0], alpha = s.f[1], one_m_alpha = s.f[2], eps = s.f[3], wd = s.f[4], mom = s.f[5];
  const float sign = s.flag[2] ? -1.0f : 1.0f;
  const bool use_mom = s.flag[0], centered = s.flag[1];
  float* sq = bufs[0];
  float* buf = use_mom ? bufs[1] : nullptr;
  float* ga = centered ? bufs[use_mom ? 2 : 1] : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    float d = sign * g[i];
    if (wd != 0) d = d + wd * p[i];
    float v = sq[i] * alpha + one_m_alpha * d * d;
    sq[i] = v;
    float avg;
    if (centered) {
      float m = ga[i] * alpha + one_m_alpha * d;
      ga[i] = m;
      avg = std::sqrt(v + -1.0f * m * m) + eps;
    } else {
      avg = std::sqrt(v) + eps;
    }
    if (use_mom) {
      float b = buf[i] * mom + d / avg;
      buf[i] = b;
      p[i] = p[i] + neg_lr * b;
    } else {
      p[i] = p[i] + neg_lr * d / avg;
    }
  }
}

}  // namespace ember::optim
