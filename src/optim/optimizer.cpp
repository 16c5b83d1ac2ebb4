#include "ember/optim/optimizer.h"

#include <cstring>

#include "ember/autograd/grad_mode.h"
#include "ember/kernels/parallel.h"

namespace ember::optim {

namespace {
// Below this many elements an update runs on one thread: the OpenMP fork costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 16;

bool grad_usable(const Tensor& p) {
  Tensor g = p.grad();
  return g.defined();
}
}  // namespace

Optimizer::Optimizer(OptionMap defaults) : defaults_(std::move(defaults)) {}

double Optimizer::opt(const OptionMap& o, const char* key) {
  auto it = o.find(key);
  EMBER_CHECK(it != o.end(), ValueError, "optimizer: option '", key, "' is missing");
  return it->second;
}

void Optimizer::init_groups(const std::vector<ParamGroup>& groups) {
  EMBER_CHECK(!groups.empty(), ValueError, name(), ": optimizer got an empty parameter list");
  for (const auto& g : groups) add_param_group(g.params, g.options);
}

void Optimizer::add_param_group(const std::vector<Tensor>& params, const OptionMap& options) {
  EMBER_CHECK(!params.empty(), ValueError, name(), ": parameter group ", groups_.size(), " is empty");
  ParamGroup group;
  group.options = defaults_;
  for (const auto& [k, v] : options) {
    EMBER_CHECK(defaults_.count(k), ValueError, name(), ": unknown option '", k, "' in parameter group ",
                groups_.size());
    group.options[k] = v;
  }
  check_options(group.options);
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    EMBER_CHECK(p.defined(), ValueError, name(), ": parameter ", i, " of group ", groups_.size(),
                " is undefined");
    EMBER_CHECK(p.dtype() == DType::Float32, DTypeError, name(), ": parameter ", i, " of group ",
                groups_.size(), " is ", dtype_name(p.dtype()), "; optimizers update float32 parameters");
    EMBER_CHECK(p.is_leaf(), ValueError, name(), ": parameter ", i, " of group ", groups_.size(),
                " is not a leaf tensor (it has a grad_fn); optimize leaves only");
    for (const auto& g : groups_)
      for (const auto& q : g.params)
        EMBER_CHECK(!q.same(p), ValueError, name(), ": a parameter appears in more than one parameter group");
    for (size_t j = 0; j < i; ++j)
      EMBER_CHECK(!params[j].same(p), ValueError, name(), ": parameter ", i, " of group ", groups_.size(),
                  " repeats parameter ", j);
    state_offset_.push_back(offset);
    steps_.push_back(0);
    offset += p.numel();
  }
  group_begin_.push_back(static_cast<int64_t>(steps_.size() - params.size()));
  group_numel_.push_back(offset);
  group.params = params;
  groups_.push_back(std::move(group));
  buffer_names_.emplace_back();
  buffers_.emplace_back();
}

double Optimizer::lr(size_t group) const {
  EMBER_CHECK(group < groups_.size(), IndexError, name(), ": parameter group ", group, " out of range (",
              groups_.size(), " groups)");
  return groups_[group].options.at("lr");
}

void Optimizer::set_lr(double lr, size_t group) {
  EMBER_CHECK(group < groups_.size(), IndexError, name(), ": parameter group ", group, " out of range (",
              groups_.size(), " groups)");
  EMBER_CHECK(lr >= 0, ValueError, name(), ": Invalid learning rate: ", lr);
  groups_[group].options["lr"] = lr;
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < groups_.size(); ++g) set_lr(lr, g);
}

void Optimizer::ensure_state(size_t gi) {
  if (!buffer_names_[gi].empty() || !buffers_[gi].empty()) return;
  const ParamGroup& group = groups_[gi];
  buffer_names_[gi] = buffer_names(group.options);
  for (const auto& n : buffer_names_[gi]) {
    // One contiguous buffer per state name and group: parameters adjacent in memory get adjacent state, so
    // an arena's update is a single loop over all of them.
    Tensor b = full({group_numel_[gi]}, buffer_init(n, group.options));
    buffers_[gi].push_back(b);
  }
  if (buffer_names_[gi].empty())
    buffers_[gi].push_back(Tensor());  // marks "initialised" for stateless groups
}

void Optimizer::step() {
  NoGradGuard no_grad;
  last_step_loops_ = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& group = groups_[gi];
    ensure_state(gi);
    // Coalesce runs of parameters whose data, gradients and state are adjacent and whose step counts agree.
    segments_.clear();
    for (size_t i = 0; i < group.params.size(); ++i) {
      const Tensor& p = group.params[i];
      if (!grad_usable(p)) continue;
      Tensor g = p.grad();
      EMBER_CHECK(g.shape() == p.shape(), ShapeError, name(), ": gradient of parameter ", i, " of group ", gi,
                  " has shape ", g.shape(), " but the parameter has ", p.shape());
      EMBER_CHECK(g.dtype() == DType::Float32, DTypeError, name(), ": gradient of parameter ", i,
                  " of group ", gi, " is ", dtype_name(g.dtype()), ", expected float32");
      EMBER_CHECK(p.is_contiguous() && g.is_contiguous(), ValueError, name(), ": parameter ", i, " of group ",
                  gi, " or its gradient is not contiguous");
      int64_t idx = group_begin_[gi] + static_cast<int64_t>(i);
      int64_t st = ++steps_[idx];
      float* pd = p.data<float>();
      const float* gd = g.data<float>();
      int64_t n = p.numel();
      if (!segments_.empty()) {
        Segment& last = segments_.back();
        if (last.p + last.n == pd && last.g + last.n == gd &&
            last.state_offset + last.n == state_offset_[idx] && last.step == st) {
          last.n += n;
          p.bump_version();
          continue;
        }
      }
      segments_.push_back(Segment{pd, gd, state_offset_[idx], n, st});
      p.bump_version();
    }
    const size_t nb = buffer_names_[gi].size();
    last_step_loops_ += segments_.size();
    for (const Segment& s : segments_) {
      Scalars sc = prepare(group.options, s.step);
      float* bufs[8];
      for (size_t b = 0; b < nb; ++b) bufs[b] = buffers_[gi][b].data<float>() + s.state_offset;
      parallel_for(0, s.n, kParallelGrain, [&](int64_t lo, int64_t hi) {
        float* local[8];
        for (size_t b = 0; b < nb; ++b) local[b] = bufs[b] + lo;
        update(sc, s.p + lo, s.g + lo, local, hi - lo);
      });
    }
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& group : groups_)
    for (auto& p : group.params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        p.zero_grad();
      } else if (g.is_contiguous() && g.dtype() == DType::Float32) {
        std::memset(g.raw_data(), 0, static_cast<size_t>(g.numel()) * sizeof(float));
        g.bump_version();
      } else {
        fill_(g, 0.0);
      }
    }
}

OptimizerStateDict Optimizer::state_dict() const {
  OptimizerStateDict sd;
  sd.scalars["num_param_groups"] = static_cast<double>(groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    std::string pre = "param_groups." + std::to_string(gi) + ".";
    for (const auto& [k, v] : groups_[gi].options) sd.scalars[pre + k] = v;
    sd.scalars[pre + "num_params"] = static_cast<double>(groups_[gi].params.size());
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      int64_t idx = group_begin_[gi] + static_cast<int64_t>(i);
      if (steps_[idx] == 0) continue;  // no state yet, like PyTorch
      std::string sp = "state." + std::to_string(idx) + ".";
      sd.scalars[sp + "step"] = static_cast<double>(steps_[idx]);
      const Tensor& p = groups_[gi].params[i];
      for (size_t b = 0; b < buffer_names_[gi].size(); ++b) {
        // A copy, so that the saved state does not change as training goes on.
        Tensor view =
            as_strided(buffers_[gi][b], p.shape(), contiguous_strides(p.shape()), state_offset_[idx]);
        sd.tensors[sp + buffer_names_[gi][b]] = copy_as(view, DType::Float32);
      }
    }
  }
  return sd;
}

void Optimizer::load_state_dict(const OptimizerStateDict& sd) {
  auto scalar = [&](const std::string& key) {
    auto it = sd.scalars.find(key);
    EMBER_CHECK(it != sd.scalars.end(), ValueError, name(), ".load_state_dict: missing scalar '", key, "'");
    return it->second;
  };
  double ng = scalar("num_param_groups");
  EMBER_CHECK(ng == static_cast<double>(groups_.size()), ValueError, name(),
              ".load_state_dict: the state has ", ng, " parameter groups but the optimizer has ",
              groups_.size());
  // Validate everything before changing anything.
  std::vector<OptionMap> new_options(groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    std::string pre = "param_groups." + std::to_string(gi) + ".";
    double np = scalar(pre + "num_params");
    EMBER_CHECK(np == static_cast<double>(groups_[gi].params.size()), ValueError, name(),
                ".load_state_dict: parameter group ", gi, " has ", np, " parameters in the state but ",
                groups_[gi].params.size(), " in the optimizer");
    for (const auto& [k, v] : groups_[gi].options) new_options[gi][k] = scalar(pre + k);
    check_options(new_options[gi]);
    std::vector<std::string> names = buffer_names(new_options[gi]);
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      int64_t idx = group_begin_[gi] + static_cast<int64_t>(i);
      std::string sp = "state." + std::to_string(idx) + ".";
      if (!sd.scalars.count(sp + "step")) continue;
      double st = sd.scalars.at(sp + "step");
      EMBER_CHECK(st >= 1 && st == static_cast<double>(static_cast<int64_t>(st)), ValueError, name(),
                  ".load_state_dict: '", sp, "step' is ", st, ", expected a positive integer");
      const Tensor& p = groups_[gi].params[i];
      for (const auto& n : names) {
        auto it = sd.tensors.find(sp + n);
        EMBER_CHECK(it != sd.tensors.end(), ValueError, name(), ".load_state_dict: missing tensor '", sp, n,
                    "'");
        EMBER_CHECK(it->second.shape() == p.shape(), ValueError, name(), ".load_state_dict: '", sp, n,
                    "' has shape ", it->second.shape(), " but parameter ", idx, " has shape ", p.shape());
      }
    }
  }
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    groups_[gi].options = new_options[gi];
    buffer_names_[gi].clear();
    buffers_[gi].clear();
    ensure_state(gi);
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      int64_t idx = group_begin_[gi] + static_cast<int64_t>(i);
      std::string sp = "state." + std::to_string(idx) + ".";
      auto it = sd.scalars.find(sp + "step");
      steps_[idx] = it == sd.scalars.end() ? 0 : static_cast<int64_t>(it->second);
      if (steps_[idx] == 0) continue;
      const Tensor& p = groups_[gi].params[i];
      for (size_t b = 0; b < buffer_names_[gi].size(); ++b) {
        Tensor view =
            as_strided(buffers_[gi][b], p.shape(), contiguous_strides(p.shape()), state_offset_[idx]);
        copy_into(view, sd.tensors.at(sp + buffer_names_[gi][b]));
      }
    }
  }
}

}  // namespace ember::optim
