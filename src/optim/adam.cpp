#include "ember/optim/adam.h"

#include <cmath>

namespace ember::optim {

OptionMap AdamOptions::to_map() const {
  return {{"lr", lr_},
          {"beta1", beta1_},
          {"beta2", beta2_},
          {"eps", eps_},
          {"weight_decay", weight_decay_},
          {"amsgrad", amsgrad_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

Adam::Adam(const std::vector<Tensor>& params, const AdamOptions& options)
    : Adam({ParamGroup{params, {}}}, options, false) {}

Adam::Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults)
    : Adam(groups, defaults, false) {}

Adam::Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults, bool decoupled)
    : Optimizer(defaults.to_map()), decoupled_(decoupled) {
  init_groups(groups);
}

AdamW::AdamW(const std::vector<Tensor>& params, const AdamOptions& options)
    : Adam({ParamGroup{params, {}}}, options, true) {}

AdamW::AdamW(const std::vector<ParamGroup>& groups, const AdamOptions& defaults)
    : Adam(groups, defaults, true) {}

void Adam::check_options(const OptionMap& o) const {
  const char* n = decoupled_ ? "AdamW" : "Adam";
  EMBER_CHECK(opt(o, "lr") >= 0, ValueError, n, ": Invalid learning rate: ", opt(o, "lr"));
  EMBER_CHECK(opt(o, "eps") >= 0, ValueError, n, ": Invalid epsilon value: ", opt(o, "eps"));
  EMBER_CHECK(opt(o, "beta1") >= 0 && opt(o, "beta1") < 1, ValueError, n,
              ": Invalid beta parameter at index 0: ", opt(o, "beta1"), " (expected 0 <= beta1 < 1)");
  EMBER_CHECK(opt(o, "beta2") >= 0 && opt(o, "beta2") < 1, ValueError, n,
              ": Invalid beta parameter at index 1: ", opt(o, "beta2"), " (expected 0 <= beta2 < 1)");
  EMBER_CHECK(opt(o, "weight_decay") >= 0, ValueError, n,
              ": Invalid weight_decay value: ", opt(o, "weight_decay"));
}

std::vector<std::string> Adam::buffer_names(const OptionMap& o) const {
  std::vector<std::string> names{"exp_avg", "exp_avg_sq"};
  if (opt(o, "amsgrad") != 0) names.push_back("max_exp_avg_sq");
  return names;
}

// f: 0 beta1, 1 1-beta1, 2 beta2, 3 1-beta2, 4 -step_size, 5 sqrt(bias_correction2), 6 eps, 7 weight_decay,
//    8 1-lr*weight_decay; flag: 0 amsgrad, 1 decoupled, 2 maximize
Optimizer::Scalars Adam::prepare(const OptionMap& o, int64_t step) const {
  Scalars s;
  double lr = opt(o, "lr"), b1 = opt(o, "beta1"), b2 = opt(o, "beta2"), wd = opt(o, "weight_decay");
  double t = static_cast<double>(step);
  double bc1 = 1.0 - std::pow(b1, t), bc2 = 1.0 - std::pow(b2, t);
  s.f[0] = static_cast<float>(b1);
  s.f[1] = static_cast<float>(1.0 - b1);
  s.f[2] = static_cast<float>(b2);
  s.f[3] = static_cast<float>(1.0 - b2);
  s.f[4] = static_cast<float>(-(lr / bc1));
  s.f[5] = static_cast<float>(std::sqrt(bc2));
  s.f[6] = static_cast<float>(opt(o, "eps"));
  s.f[7] = static_cast<float>(wd);
  s.f[8] = static_cast<float>(1.0 - lr * wd);
  s.flag[0] = opt(o, "amsgrad") != 0;
  s.flag[1] = decoupled_;
  s.flag[2] = opt(o, "maximize") != 0;
  s.step = step;
  return s;
}

void Adam::update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const {
  const float b1 = s.f[0], one_m_b1 = s.f[1], b2 = s.f[2], one_m_b2 = s.f[3], neg_step = s.f[4],
              bc2_sqrt = s.f[5], eps = s.f[6], wd = s.f[7], decay = s.f[8];
  const float sign = s.flag[2] ? -1.0f : 1.0f;
  float* m = bufs[0];
  float* v = bufs[1];
  const bool coupled_wd = !s.flag[1] && wd != 0;
  const bool decoupled_wd = s.flag[1] && wd != 0;
  if (s.flag[0]) {
    float* vmax = bufs[2];
    for (int64_t i = 0; i < n; ++i) {
      float d = sign * g[i];
      float pi = p[i];
      if (coupled_wd) d = d + wd * pi;
      if (decoupled_wd) pi = pi * decay;
      float mi = m[i] * b1 + one_m_b1 * d;
      float vi = v[i] * b2 + one_m_b2 * d * d;
      float vm = vmax[i] > vi ? vmax[i] : vi;
      m[i] = mi;
      v[i] = vi;
      vmax[i] = vm;
      p[i] = pi + neg_step * mi / (std::sqrt(vm) / bc2_sqrt + eps);
    }
    return;
  }
  // The hot loop (no branches on per-element data): GCC vectorises it with -O3 -march=native.
  for (int64_t i = 0; i < n; ++i) {
    float d = sign * g[i];
    float pi = p[i];
    if (coupled_wd) d = d + wd * pi;
    if (decoupled_wd) pi = pi * decay;
    float mi = m[i] * b1 + one_m_b1 * d;
    float vi = v[i] * b2 + one_m_b2 * d * d;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + neg_step * mi / (std::sqrt(vi) / bc2_sqrt + eps);
  }
}

}  // namespace ember::optim
