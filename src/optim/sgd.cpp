#include "ember/optim/sgd.h"

namespace ember::optim {

OptionMap SGDOptions::to_map() const {
  return {{"lr", lr_},
          {"momentum", momentum_},
          {"dampening", dampening_},
          {"weight_decay", weight_decay_},
          {"nesterov", nesterov_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

SGD::SGD(const std::vector<Tensor>& params, const SGDOptions& options)
    : SGD({ParamGroup{params, {}}}, options) {}

SGD::SGD(const std::vector<ParamGroup>& groups, const SGDOptions& defaults) : Optimizer(defaults.to_map()) {
  init_groups(groups);
}

void SGD::check_options(const OptionMap& o) const {
  EMBER_CHECK(opt(o, "lr") >= 0, ValueError, "SGD: Invalid learning rate: ", opt(o, "lr"));
  EMBER_CHECK(opt(o, "momentum") >= 0, ValueError, "SGD: Invalid momentum value: ", opt(o, "momentum"));
  EMBER_CHECK(opt(o, "weight_decay") >= 0, ValueError,
              "SGD: Invalid weight_decay value: ", opt(o, "weight_decay"));
  EMBER_CHECK(!(opt(o, "nesterov") != 0 && (opt(o, "momentum") <= 0 || opt(o, "dampening") != 0)), ValueError,
              "SGD: Nesterov momentum requires a momentum and zero dampening (momentum=", opt(o, "momentum"),
              ", dampening=", opt(o, "dampening"), ")");
}

std::vector<std::string> SGD::buffer_names(const OptionMap& o) const {
  if (opt(o, "momentum") != 0) return {"momentum_buffer"};
  return {};
}

// f: 0 lr, 1 momentum, 2 1-dampening, 3 weight_decay; flag: 0 momentum, 1 nesterov, 2 maximize, 3 first step
Optimizer::Scalars SGD::prepare(const OptionMap& o, int64_t step) const {
  Scalars s;
  s.f[0] = static_cast<float>(opt(o, "lr"));
  s.f[1] = static_cast<float>(opt(o, "momentum"));
  s.f[2] = static_cast<float>(1.0 - opt(o, "dampening"));
  s.f[3] = static_cast<float>(opt(o, "weight_decay"));
  s.flag[0] = opt(o, "momentum") != 0;
  s.flag[1] = opt(o, "nesterov") != 0;
  s.flag[2] = opt(o, "maximize") != 0;
  s.flag[3] = step == 1;
  s.step = step;
  return s;
}

void SGD::update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const {
  const float neg_lr = -s.f[0], mom = s.f[1], damp1 = s.f[2], wd = s.f[3];
  const float sign = s.flag[2] ? -1.0f : 1.0f;
  if (!s.flag[0]) {
    for (int64_t i = 0; i < n; ++i) {
      float d = sign * g[i];
      if (wd != 0) d = d + wd * p[i];
      p[i] = p[i] + neg_lr * d;
    }
    return;
  }
  float* buf = bufs[0];
  const bool first = s.flag[3], nesterov = s.flag[1];
  for (int64_t i = 0; i < n; ++i) {
    float d = sign * g[i];
    if (wd != 0) d = d + wd * p[i];
    // PyTorch starts the buffer as a copy of the first gradient (no dampening on step 1).
    float b = first ? d : buf[i] * mom + damp1 * d;
    buf[i] = b;
    d = nesterov ? d + mom * b : b;
    p[i] = p[i] + neg_lr * d;
  }
}

}  // namespace ember::optim
