// Adam and AdamW with PyTorch 1.13's updates (torch.optim.Adam / AdamW, single-tensor path):
//   Adam:  g += weight_decay * p (L2)      AdamW: p *= 1 - lr * weight_decay (decoupled)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g;  amsgrad: vmax = max(vmax, v)
//   p -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
//
//   ember::optim::Adam opt(params, ember::optim::AdamOptions(1e-3).betas(0.9, 0.999).amsgrad(true));
//   ember::optim::AdamW optw(params, ember::optim::AdamWOptions(1e-3).weight_decay(0.01));
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  AdamOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  AdamOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
  AdamOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  AdamOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  AdamOptions& amsgrad(bool v) {
    amsgrad_ = v;
    return *this;
  }
  AdamOptions& maximize(bool v) {
    maximize_ = v;
    return *this;
  }
  OptionMap to_map() const;

  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
  bool amsgrad_ = false, maximize_ = false;
};

// AdamW's options differ from Adam's only in the default weight decay (0.01, as in PyTorch).
struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay_ = 1e-2; }
};

class Adam : public Optimizer {
 public:
  Adam(const std::vector<Tensor>& params, const AdamOptions& options);
  Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults);
  std::string name() const override { return decoupled_ ? "AdamW" : "Adam"; }

 protected:
  Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults, bool decoupled);
  void check_options(const OptionMap& o) const override;
  std::vector<std::string> buffer_names(const OptionMap& o) const override;
  Scalars prepare(const OptionMap& o, int64_t step) const override;
  void update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const override;

 private:
  bool decoupled_ = false;
};

class AdamW : public Adam {
 public:
  // Pass AdamWOptions for PyTorch's default weight decay of 0.01 (setters return AdamOptions&, which is
  // fine).
  AdamW(const std::vector<Tensor>& params, const AdamOptions& options);
  AdamW(const std::vector<ParamGroup>& groups, const AdamOptions& defaults);
};

}  // namespace ember::optim
