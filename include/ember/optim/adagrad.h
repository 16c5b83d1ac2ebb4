// Adagrad with PyTorch 1.13's update (torch.optim.Adagrad):
//   g += weight_decay * p;  clr = lr / (1 + (step - 1) * lr_decay);  sum += g * g;  p -= clr * g / (sqrt(sum)
//   + eps)
//
//   ember::optim::Adagrad opt(params, ember::optim::AdagradOptions(0.01).initial_accumulator_value(0.1));
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

struct AdagradOptions {
  explicit AdagradOptions(double lr = 0.01) : lr_(lr) {}
  AdagradOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  AdagradOptions& lr_decay(double v) {
    lr_decay_ = v;
    return *this;
  }
  AdagradOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  AdagradOptions& initial_accumulator_value(double v) {
    initial_accumulator_value_ = v;
    return *this;
  }
  AdagradOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  AdagradOptions& maximize(bool v) {
    maximize_ = v;
    return *this;
  }
  OptionMap to_map() const;

  double lr_, lr_decay_ = 0, weight_decay_ = 0, initial_accumulator_value_ = 0, eps_ = 1e-10;
  bool maximize_ = false;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(const std::vector<Tensor>& params, const AdagradOptions& options);
  Adagrad(const std::vector<ParamGroup>& groups, const AdagradOptions& defaults);
  std::string name() const override { return "Adagrad"; }

 protected:
  void check_options(const OptionMap& o) const override;
  std::vector<std::string> buffer_names(const OptionMap& o) const override;
  double buffer_init(const std::string& name, const OptionMap& o) const override;
  Scalars prepare(const OptionMap& o, int64_t step) const override;
  void update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const override;
};

}  // namespace ember::optim
