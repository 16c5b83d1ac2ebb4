#include "ember/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace ember::optim {

namespace {
double get_key(const SchedulerState& s, const std::string& key, const char* who) {
  auto it = s.find(key);
  EMBER_CHECK(it != s.end(), ValueError, who, ".load_state_dict: missing entry '", key, "'");
  return it->second;
}
}  // namespace

// ---- LRScheduler ----

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  base_lrs_ = current_lrs();
}

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < optimizer_.num_groups(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  std::vector<double> lrs = get_lr();
  for (size_t g = 0; g < lrs.size(); ++g) optimizer_.set_lr(lrs[g], g);
  last_lr_ = current_lrs();
}

SchedulerState LRScheduler::state_dict() const {
  SchedulerState s;
  s["last_epoch"] = static_cast<double>(last_epoch_);
  s["step_count"] = static_cast<double>(step_count_);
  s["num_groups"] = static_cast<double>(base_lrs_.size());
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    s["base_lrs." + std::to_string(g)] = base_lrs_[g];
    s["last_lr." + std::to_string(g)] = last_lr_[g];
  }
  return s;
}

void LRScheduler::load_state_dict(const SchedulerState& s) {
  double ng = get_key(s, "num_groups", "LRScheduler");
  EMBER_CHECK(ng == static_cast<double>(base_lrs_.size()), ValueError,
              "LRScheduler.load_state_dict: the state has ", ng, " parameter groups but the optimizer has ",
              base_lrs_.size());
  std::vector<double> base(base_lrs_.size()), last(base_lrs_.size());
  for (size_t g = 0; g < base.size(); ++g) {
    base[g] = get_key(s, "base_lrs." + std::to_string(g), "LRScheduler");
    last[g] = get_key(s, "last_lr." + std::to_string(g), "LRScheduler");
  }
  last_epoch_ = static_cast<int64_t>(get_key(s, "last_epoch", "LRScheduler"));
  step_count_ = static_cast<int64_t>(get_key(s, "step_count", "LRScheduler"));
  base_lrs_ = base;
  last_lr_ = last;
  for (size_t g = 0; g < last.size(); ++g) optimizer_.set_lr(last[g], g);
}

// ---- StepLR ----

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  EMBER_CHECK(step_size > 0, ValueError, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = current_lrs();
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (auto& lr : lrs) lr *= gamma_;
  return lrs;
}

// ---- MultiStepLR ----

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  for (size_t i = 0; i < milestones.size(); ++i) {
    EMBER_CHECK(i == 0 || milestones[i] >= milestones[i - 1], ValueError,
                "MultiStepLR: milestones must be increasing, got ", milestones[i - 1], " then ",
                milestones[i]);
    ++milestones_[milestones[i]];
  }
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = current_lrs();
  auto it = milestones_.find(last_epoch_);
  if (it == milestones_.end()) return lrs;
  for (auto& lr : lrs) lr *= std::pow(gamma_, it->second);
  return lrs;
}

// ---- ExponentialLR ----

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = current_lrs();
  if (last_epoch_ == 0) return lrs;
  for (auto& lr : lrs) lr *= gamma_;
  return lrs;
}

// ---- CosineAnnealingLR ----

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  EMBER_CHECK(t_max > 0, ValueError, "CosineAnnealingLR: t_max must be positive, got ", t_max);
  initial_step();
}

// PyTorch's recursive form: each rate follows from the previous one, so outside changes to the rate carry on.
std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = current_lrs();
  const double pi = std::numbers::pi, t = static_cast<double>(last_epoch_), T = static_cast<double>(t_max_);
  if (last_epoch_ == 0) return lrs;
  if (step_count_ == 1 && last_epoch_ > 0) {
    for (size_t g = 0; g < lrs.size(); ++g)
      lrs[g] = eta_min_ + (base_lrs_[g] - eta_min_) * (1 + std::cos(t * pi / T)) / 2;
    return lrs;
  }
  if ((last_epoch_ - 1 - t_max_) % (2 * t_max_) == 0) {
    for (size_t g = 0; g < lrs.size(); ++g)
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    return lrs;
  }
  for (auto& lr : lrs)
    lr = (1 + std::cos(pi * t / T)) / (1 + std::cos(pi * (t - 1) / T)) * (lr - eta_min_) + eta_min_;
  return lrs;
}

// ---- LinearLR ----

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  EMBER_CHECK(start_factor > 0 && start_factor <= 1, ValueError,
              "LinearLR: start_factor expected in (0, 1], got ", start_factor);
  EMBER_CHECK(end_factor >= 0 && end_factor <= 1, ValueError, "LinearLR: end_factor expected in [0, 1], got ",
              end_factor);
  EMBER_CHECK(total_iters > 0, ValueError, "LinearLR: total_iters must be positive, got ", total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lr() {
  std::vector<double> lrs = current_lrs();
  if (last_epoch_ == 0) {
    for (auto& lr : lrs) lr *= start_factor_;
    return lrs;
  }
  if (last_epoch_ > total_iters_) return lrs;
  const double d = end_factor_ - start_factor_;
  for (auto& lr : lrs)
    lr *= 1.0 +
          d / (static_cast<double>(total_iters_) * start_factor_ + static_cast<double>(last_epoch_ - 1) * d);
  return lrs;
}

// ---- LambdaLR ----

LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lambda)
    : LambdaLR(optimizer, std::vector<Lambda>(optimizer.num_groups(), lambda)) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<Lambda> lambdas)
    : LRScheduler(optimizer), lambdas_(std::move(lambdas)) {
  EMBER_CHECK(lambdas_.size() == optimizer.num_groups(), ValueError, "LambdaLR: expected ",
              optimizer.num_groups(), " lr_lambdas (one per parameter group), got ", lambdas_.size());
  for (size_t i = 0; i < lambdas_.size(); ++i)
    EMBER_CHECK(static_cast<bool>(lambdas_[i]), ValueError, "LambdaLR: lr_lambda ", i, " is empty");
  initial_step();
}

std::vector<double> LambdaLR::get_lr() {
  std::vector<double> lrs(base_lrs_.size());
  for (size_t g = 0; g < lrs.size(); ++g) lrs[g] = base_lrs_[g] * lambdas_[g](last_epoch_);
  return lrs;
}

// ---- ReduceLROnPlateau ----

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const PlateauOptions& options)
    : optimizer_(optimizer), o_(options) {
  EMBER_CHECK(o_.factor_ < 1.0, ValueError, "ReduceLROnPlateau: factor should be < 1.0, got ", o_.factor_);
  EMBER_CHECK(o_.mode_ == "min" || o_.mode_ == "max", ValueError, "ReduceLROnPlateau: mode '", o_.mode_,
              "' is unknown (expected 'min' or 'max')");
  EMBER_CHECK(o_.threshold_mode_ == "rel" || o_.threshold_mode_ == "abs", ValueError,
              "ReduceLROnPlateau: threshold mode '", o_.threshold_mode_,
              "' is unknown (expected 'rel' or 'abs')");
  const size_t ng = optimizer.num_groups();
  if (o_.min_lrs_.size() == 1)
    min_lrs_.assign(ng, o_.min_lrs_[0]);
  else
    min_lrs_ = o_.min_lrs_;
  EMBER_CHECK(min_lrs_.size() == ng, ValueError, "ReduceLROnPlateau: expected ", ng, " min_lrs, got ",
              o_.min_lrs_.size());
  best_ =
      o_.mode_ == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  for (size_t g = 0; g < ng; ++g) last_lr_.push_back(optimizer.lr(g));
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  if (o_.mode_ == "min" && o_.threshold_mode_ == "rel") return a < best * (1.0 - o_.threshold_);
  if (o_.mode_ == "min") return a < best - o_.threshold_;
  if (o_.threshold_mode_ == "rel") return a > best * (o_.threshold_ + 1.0);
  return a > best + o_.threshold_;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ > o_.patience_) {
    for (size_t g = 0; g < optimizer_.num_groups(); ++g) {
      double old_lr = optimizer_.lr(g);
      double new_lr = std::max(old_lr * o_.factor_, min_lrs_[g]);
      if (old_lr - new_lr > o_.eps_) optimizer_.set_lr(new_lr, g);
    }
    cooldown_counter_ = o_.cooldown_;
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (size_t g = 0; g < optimizer_.num_groups(); ++g) last_lr_.push_back(optimizer_.lr(g));
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState s{{"last_epoch", static_cast<double>(last_epoch_)},
                   {"best", best_},
                   {"num_bad_epochs", static_cast<double>(num_bad_epochs_)},
                   {"cooldown_counter", static_cast<double>(cooldown_counter_)},
                   {"num_groups", static_cast<double>(last_lr_.size())}};
  for (size_t g = 0; g < last_lr_.size(); ++g) s["last_lr." + std::to_string(g)] = last_lr_[g];
  return s;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& s) {
  double ng = get_key(s, "num_groups", "ReduceLROnPlateau");
  EMBER_CHECK(ng == static_cast<double>(optimizer_.num_groups()), ValueError,
              "ReduceLROnPlateau.load_state_dict: the state has ", ng,
              " parameter groups but the optimizer has ", optimizer_.num_groups());
  std::vector<double> last(optimizer_.num_groups());
  for (size_t g = 0; g < last.size(); ++g)
    last[g] = get_key(s, "last_lr." + std::to_string(g), "ReduceLROnPlateau");
  last_epoch_ = static_cast<int64_t>(get_key(s, "last_epoch", "ReduceLROnPlateau"));
  best_ = get_key(s, "best", "ReduceLROnPlateau");
  num_bad_epochs_ = static_cast<int64_t>(get_key(s, "num_bad_epochs", "ReduceLROnPlateau"));
  cooldown_counter_ = static_cast<int64_t>(get_key(s, "cooldown_counter", "ReduceLROnPlateau"));
  last_lr_ = last;
  for (size_t g = 0; g < last.size(); ++g) optimizer_.set_lr(last[g], g);
}

}  // namespace ember::optim
