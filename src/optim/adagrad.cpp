#include "ember/optim/adagrad.h"

#include <cmath>

namespace ember::optim {

OptionMap AdagradOptions::to_map() const {
  return {{"lr", lr_},
          {"lr_decay", lr_decay_},
          {"weight_decay", weight_decay_},
          {"initial_accumulator_value", initial_accumulator_value_},
          {"eps", eps_},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

Adagrad::Adagrad(const std::vector<Tensor>& params, const AdagradOptions& options)
    : Adagrad({ParamGroup{params, {}}}, options) {}

Adagrad::Adagrad(const std::vector<ParamGroup>& groups, const AdagradOptions& defaults)
    : Optimizer(defaults.to_map()) {
  init_groups(groups);
}

void Adagrad::check_options(const OptionMap& o) const {
  EMBER_CHECK(opt(o, "lr") >= 0, ValueError, "Adagrad: Invalid learning rate: ", opt(o, "lr"));
  EMBER_CHECK(opt(o, "lr_decay") >= 0, ValueError, "Adagrad: Invalid lr_decay value: ", opt(o, "lr_decay"));
  EMBER_CHECK(opt(o, "weight_decay") >= 0, ValueError,
              "Adagrad: Invalid weight_decay value: ", opt(o, "weight_decay"));
  EMBER_CHECK(opt(o, "initial_accumulator_value") >= 0, ValueError,
              "Adagrad: Invalid initial_accumulator_value value: ", opt(o, "initial_accumulator_value"));
  EMBER_CHECK(opt(o, "eps") >= 0, ValueError, "Adagrad: Invalid epsilon value: ", opt(o, "eps"));
}

std::vector<std::string> Adagrad::buffer_names(const OptionMap&) const {
  return {"sum"};
}

double Adagrad::buffer_init(const std::string&, const OptionMap& o) const {
  return opt(o, "initial_accumulator_value");
}

// f: 0 clr, 1 eps, 2 weight_decay; flag 0 maximize
Optimizer::Scalars Adagrad::prepare(const OptionMap& o, int64_t step) const {
  Scalars s;
  double clr = opt(o, "lr") / (1.0 + static_cast<double>(step - 1) * opt(o, "lr_decay"));
  s.f[0] = static_cast<float>(-clr);
  s.f[1] = static_cast<float>(opt(o, "eps"));
  s.f[2] = static_cast<float>(opt(o, "weight_decay"));
  s.flag[0] = opt(o, "maximize") != 0;
  s.step = step;
  return s;
}

void Adagrad::update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const {
  const float neg_clr = s.f[0], eps = s.f[1], wd = s.f[2];
  const float sign = s.flag[0] ? -1.0f : 1.0f;
  float* sum = bufs[0];
  for (int64_t i = 0; i < n; ++i) {
    float d = sign * g[i];
    if (wd != 0) d = d + wd * p[i];
    float acc = sum[i] + d * d;
    sum[i] = acc;
    float stdv = std::sqrt(acc) + eps;
    p[i] = p[i] + neg_clr * d / stdv;
  }
}

}  // namespace ember::optim
