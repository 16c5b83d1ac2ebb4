// Gradient recording switches.
//
//   { ember::NoGradGuard guard; auto y = model->forward(x); }   // nothing recorded: inference, optimizer steps
//   ember::AnomalyMode::set_enabled(true);  // the first op whose output or gradient has a NaN throws, naming it
#pragma once

namespace ember {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool on);
};

// While alive, ops record no graph (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// While alive, ops record the graph even inside a NoGradGuard.
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// Anomaly detection: when enabled, every recorded op checks its output, and the backward pass checks every
// gradient, for NaN; the first one found throws AutogradError naming the op.
class AnomalyMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool on);
};

}  // namespace ember
