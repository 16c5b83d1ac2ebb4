// Learning-rate schedulers with PyTorch 1.13's (chainable) formulas. Call step() once per epoch (or per
// iteration, for warm-up), after optimizer.step(); constructing a scheduler applies its epoch-0 rate.
//
//   ember::optim::SGD opt(params, ember::optim::SGDOptions(0.1));
//   ember::optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (int epoch = 0; epoch < 90; ++epoch) { train_epoch(...); sched.step(); }
//   ember::optim::ReduceLROnPlateau plateau(opt, ember::optim::PlateauOptions().patience(5));
//   plateau.step(val_loss);
//   auto s = sched.state_dict();  sched.load_state_dict(s);   // named scalars
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ember/optim/optimizer.h"

namespace ember::optim {

using SchedulerState = std::map<std::string, double>;

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and writes the new rates into the optimizer's groups.
  void step();
  // The rates set by the last step() (one per parameter group).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // "last_epoch", "step_count", "base_lrs.<g>", "last_lr.<g>" (+ the scheduler's own counters).
  virtual SchedulerState state_dict() const;
  // Restores a state_dict(); also writes last_lr back into the optimizer. Throws ValueError on a missing key
  // or a group-count mismatch.
  virtual void load_state_dict(const SchedulerState& s);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // Derived constructors call this last: it performs PyTorch's initial step (epoch 0).
  void initial_step();
  // The rates for last_epoch_ given the current rates (PyTorch's get_lr()).
  virtual std::vector<double> get_lr() = 0;
  std::vector<double> current_lrs() const;

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
};

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  std::vector<double> get_lr() override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr *= gamma^(count of milestone) at each milestone epoch (milestones may repeat).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::map<int64_t, int> milestones_;
  double gamma_;
};

// lr *= gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  std::vector<double> get_lr() override;

 private:
  double gamma_;
};

// Cosine annealing from the base rate to eta_min over t_max epochs (SGDR without restarts).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);

 protected:
  std::vector<double> get_lr() override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear change of a multiplicative factor from start_factor to end_factor over total_iters epochs (warm-up).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5);

 protected:
  std::vector<double> get_lr() override;

 private:
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

// lr = base_lr * lambda(epoch); one lambda for all groups or one per group.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(Optimizer& optimizer, Lambda lambda);
  LambdaLR(Optimizer& optimizer, std::vector<Lambda> lambdas);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::vector<Lambda> lambdas_;
};

struct PlateauOptions {
  PlateauOptions& mode(const std::string& v) {
    mode_ = v;
    return *this;
  }  // "min" or "max"
  PlateauOptions& factor(double v) {
    factor_ = v;
    return *this;
  }
  PlateauOptions& patience(int64_t v) {
    patience_ = v;
    return *this;
  }
  PlateauOptions& threshold(double v) {
    threshold_ = v;
    return *this;
  }
  PlateauOptions& threshold_mode(const std::string& v) {
    threshold_mode_ = v;
    return *this;
  }  // "rel" or "abs"
  PlateauOptions& cooldown(int64_t v) {
    cooldown_ = v;
    return *this;
  }
  PlateauOptions& min_lr(double v) {
    min_lrs_ = {v};
    return *this;
  }
  PlateauOptions& min_lrs(std::vector<double> v) {
    min_lrs_ = std::move(v);
    return *this;
  }  // one per group
  PlateauOptions& eps(double v) {
    eps_ = v;
    return *this;
  }

  std::string mode_ = "min";
  double factor_ = 0.1;
  int64_t patience_ = 10;
  double threshold_ = 1e-4;
  std::string threshold_mode_ = "rel";
  int64_t cooldown_ = 0;
  std::vector<double> min_lrs_{0.0};
  double eps_ = 1e-8;
};

// Multiplies the rates by factor when a metric has not improved for more than `patience` epochs.
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, const PlateauOptions& options = PlateauOptions());
  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  // "last_epoch", "best", "num_bad_epochs", "cooldown_counter", "last_lr.<g>".
  SchedulerState state_dict() const;
  void load_state_dict(const SchedulerState& s);

 private:
  bool is_better(double a, double best) const;

  Optimizer& optimizer_;
  PlateauOptions o_;
  std::vector<double> min_lrs_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace ember::optim
