// RMSprop with PyTorch 1.13's update (torch.optim.RMSprop):
//   g += weight_decay * p;  sq = alpha * sq + (1 - alpha) * g * g;
//   centered: ga = alpha * ga + (1 - alpha) * g;  avg = sqrt(sq - ga * ga) + eps   else avg = sqrt(sq) + eps
//   momentum > 0: buf = momentum * buf + g / avg;  p -= lr * buf      else p -= lr * g / avg
//
//   ember::optim::RMSprop opt(params, ember::optim::RMSpropOptions(1e-3).centered(true).momentum(0.9));
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

struct RMSpropOptions {
  explicit RMSpropOptions(double lr = 0.01) : lr_(lr) {}
  RMSpropOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  RMSpropOptions& alpha(double v) {
    alpha_ = v;
    return *this;
  }
  RMSpropOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  RMSpropOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  RMSpropOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }
  RMSpropOptions& centered(bool v) {
    centered_ = v;
    return *this;
  }
  RMSpropOptions& maximize(bool v) {
    maximize_ = v;
    return *this;
  }
  OptionMap to_map() const;

  double lr_, alpha_ = 0.99, eps_ = 1e-8, weight_decay_ = 0, momentum_ = 0;
  bool centered_ = false, maximize_ = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(const std::vector<Tensor>& params, const RMSpropOptions& options);
  RMSprop(const std::vector<ParamGroup>& groups, const RMSpropOptions& defaults);
  std::string name() const override { return "RMSprop"; }

 protected:
  void check_options(const OptionMap& o) const override;
  std::vector<std::string> buffer_names(const OptionMap& o) const override;
  Scalars prepare(const OptionMap& o, int64_t step) const override;
  void update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const override;
};

}  // namespace ember::optim
