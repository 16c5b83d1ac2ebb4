// Optimizer: the base of Ember's optimizers (SGD, Adagrad, RMSprop, Adam, AdamW). It owns parameter groups
// (a list of float32 tensors plus options such as "lr"), the per-parameter state (step counts and buffers
// like exp_avg) and the loop that applies a fused elementwise update. Parameters that sit back to back in
// memory (a ParameterArena) are updated in one vectorised pass; others one tensor at a time.
//
//   ember::optim::Adam opt(model->parameters(), ember::optim::AdamOptions(1e-3).weight_decay(1e-4));
//   for (auto& batch : loader) {
//     opt.zero_grad();
//     loss_fn(model->forward(batch.x), batch.y).backward();
//     opt.step();
//   }
//   auto sd = opt.state_dict();   // tensors "state.<i>.exp_avg", scalars "param_groups.<g>.lr", ...
//   opt.load_state_dict(sd);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim {

// Hyper-parameters of one group by name ("lr", "momentum", "beta1", ...); flags are stored as 0/1.
using OptionMap = std::map<std::string, double>;

struct ParamGroup {
  std::vector<Tensor> params;
  OptionMap options;
};

// What an optimizer (or scheduler) saves: named tensors (safetensors-ready) and named scalars.
// Tensor names: "state.<param_index>.<buffer>" (param_index counts across groups, like PyTorch).
// Scalar names: "param_groups.<g>.<option>", "param_groups.<g>.num_params", "state.<i>.step",
// "num_param_groups".
struct OptimizerStateDict {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient (parameters without one are skipped).
  void step();
  // Zeroes the gradients in place (PyTorch 1.13's default), or drops them when set_to_none. Gradients that
  // live in a ParameterArena should be zeroed in place so that backward keeps writing into the arena.
  void zero_grad(bool set_to_none = false);

  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  size_t num_groups() const { return groups_.size(); }
  double lr(size_t group = 0) const;
  void set_lr(double lr, size_t group);
  void set_lr(double lr);  // every group
  // Adds a group; options missing from `options` take the optimizer's defaults. Checked like the constructor.
  void add_param_group(const std::vector<Tensor>& params, const OptionMap& options = {});
  // "SGD", "Adam", ...
  virtual std::string name() const = 0;
  int64_t num_params() const { return static_cast<int64_t>(steps_.size()); }
  // The number of steps parameter `i` (counted across groups) has taken.
  int64_t param_step(int64_t i) const { return steps_.at(i); }

  // How many fused loops the last step() ran (1 per group for parameters packed in a ParameterArena).
  size_t last_step_loops() const { return last_step_loops_; }

  OptimizerStateDict state_dict() const;
  // Restores a state_dict() of an optimizer of the same type over parameters of the same shapes. Throws
  // ValueError naming the first mismatch (group or parameter counts, a missing entry, a shape).
  void load_state_dict(const OptimizerStateDict& sd);

 protected:
  explicit Optimizer(OptionMap defaults);
  // Derived constructors call this once per group (after their own defaults are set).
  void init_groups(const std::vector<ParamGroup>& groups);

  // Throws ValueError when a group's options are invalid (negative lr, betas out of range, ...).
  virtual void check_options(const OptionMap& o) const = 0;
  // Names of the state buffers (same size as the parameters) the update needs with these options.
  virtual std::vector<std::string> buffer_names(const OptionMap& o) const = 0;
  // Initial value of a buffer.
  virtual double buffer_init(const std::string& /*name*/, const OptionMap& /*o*/) const { return 0.0; }
  // Per-group constants, computed once per step from the options (and the step count).
  struct Scalars {
    float f[12] = {};
    int64_t step = 0;
    bool flag[4] = {};
  };
  virtual Scalars prepare(const OptionMap& o, int64_t step) const = 0;
  // The fused elementwise update of n elements: p (parameters), g (gradients), bufs (one per buffer_names()).
  virtual void update(const Scalars& s, float* p, const float* g, float* const* bufs, int64_t n) const = 0;

  static double opt(const OptionMap& o, const char* key);

 private:
  struct Segment {
    float* p;
    const float* g;
    int64_t state_offset;  // into the group's buffers
    int64_t n;
    int64_t step;
  };
  void ensure_state(size_t group);

  OptionMap defaults_;
  std::vector<ParamGroup> groups_;
  std::vector<int64_t> steps_;         // per parameter, across groups
  std::vector<int64_t> group_begin_;   // index of each group's first parameter
  std::vector<int64_t> state_offset_;  // per parameter: offset of its slice in its group's buffers
  std::vector<int64_t> group_numel_;
  std::vector<std::vector<std::string>> buffer_names_;  // per group, fixed at first use
  std::vector<std::vector<Tensor>> buffers_;            // per group: one contiguous buffer per name
  std::vector<Segment> segments_;                       // reused by step()
  size_t last_step_loops_ = 0;
};

}  // namespace ember::optim
