// SGD: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay,
// with PyTorch 1.13's update (torch.optim.SGD):
//   d = g + weight_decay * p;  buf = step 1 ? d : momentum * buf + (1 - dampening) * d;
//   d = nesterov ? d + momentum * buf : buf;  p -= lr * d
//
//   ember::optim::SGD opt(params, ember::optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
//   // per-group options: opt groups {params, overrides}
//   ember::optim::SGD opt2({{weights, {}}, {biases, {{"lr", 0.2}, {"weight_decay", 0.0}}}}, SGDOptions(0.1));
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

struct SGDOptions {
  explicit SGDOptions(double lr = 0.01) : lr_(lr) {}
  SGDOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  SGDOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }
  SGDOptions& dampening(double v) {
    dampening_ = v;
    return *this;
  }
  SGDOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  SGDOptions& nesterov(bool v) {
    nesterov_ = v;
    return *this;
  }
  SGDOptions& maximize(bool v) {
    maximize_ = v;
    return *this;
  }
  OptionMap to_map() const;

  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false, maximize_ = false;
};

class SGD : public Optimizer {
 public:
  SGD(const std::vector<Tensor>& params, const SGDOptions& options);
  SGD(const std::vector<ParamGroup>& groups, const SGDOptions& defaults);
  std::string name() const override { return "SGD"; }

 protected:
  void check_options(const OptionMap& o) const override;
  std::vector<std::string> buffer_names(const OptionMap& o) const override;
  Scalars prepare(const OptionMap& o, int64_t step) const override;
  void update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const override;
};

}  // namespace ember::optim
