#include "ember/train/loop.h"

#include <algorithm>
#include <cctype>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/data/loader.h"
#include "ember/ops/loss.h"
#include "ember/ops/ops.h"
#include "ember/optim/adagrad.h"
#include "ember/optim/adam.h"
#include "ember/optim/rmsprop.h"
#include "ember/optim/sgd.h"

namespace ember::train {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The target as a float tensor of the output's shape (views when possible; converts integer labels).
Tensor like_output(const Tensor& out, const Tensor& y, const char* loss) {
  EMBER_CHECK(out.numel() == y.numel(), ShapeError, loss, ": target ", y.shape(), " does not fit output ",
              out.shape());
  Tensor t = y.dtype() == out.dtype() ? y : to(y, out.dtype());
  return t.shape() == out.shape() ? t : reshape(t, out.shape());
}

}  // namespace

LossFn make_loss(const std::string& name_in, bool from_logits) {
  std::string name = lower(name_in);
  if (name == "mse" || name == "mean_squared_error")
    return [](const Tensor& o, const Tensor& y) { return mse_loss(o, like_output(o, y, "mse")); };
  if (name == "mae" || name == "mean_absolute_error")
    return [](const Tensor& o, const Tensor& y) { return mean(abs(o - like_output(o, y, "mae"))); };
  if (name == "sparse_categorical_crossentropy")
    return [from_logits](const Tensor& o, const Tensor& y) {
      return sparse_categorical_crossentropy(y, o, from_logits);
    };
  if (name == "categorical_crossentropy")
    return [from_logits](const Tensor& o, const Tensor& y) {
      return categorical_crossentropy(like_output(o, y, "categorical_crossentropy"), o, from_logits);
    };
  if (name == "binary_crossentropy") {
    if (from_logits)
      return [](const Tensor& o, const Tensor& y) {
        return binary_cross_entropy_with_logits(o, like_output(o, y, "binary_crossentropy"));
      };
    return [](const Tensor& o, const Tensor& y) {
      return binary_cross_entropy(o, like_output(o, y, "binary_crossentropy"));
    };
  }
  if (name == "cross_entropy") return [](const Tensor& o, const Tensor& y) { return cross_entropy(o, y); };
  throw ValueError("compile: unknown loss '" + name_in +
                   "' (known: mse, mae, sparse_categorical_crossentropy, categorical_crossentropy, "
                   "binary_crossentropy, cross_entropy)");
}

std::shared_ptr<optim::Optimizer> make_optimizer(const std::string& name_in,
                                                 const std::vector<Tensor>& params,
                                                 const std::map<std::string, double>& options) {
  std::string name = lower(name_in);
  optim::OptionMap defaults;
  if (name == "sgd")
    defaults = optim::SGDOptions(0.01).to_map();
  else if (name == "adam")
    defaults = optim::AdamOptions(1e-3).to_map();
  else if (name == "adamw")
    defaults = optim::AdamWOptions(1e-3).to_map();
  else if (name == "rmsprop")
    defaults = optim::RMSpropOptions(1e-3).alpha(0.9).to_map();
  else if (name == "adagrad")
    defaults = optim::AdagradOptions(1e-3).to_map();
  else
    throw ValueError("optimizer: unknown optimizer '" + name_in +
                     "' (known: sgd, adam, adamw, rmsprop, adagrad)");
  for (const auto& [k, v] : options) {
    EMBER_CHECK(defaults.count(k), ValueError, "optimizer ", name, ": unknown option '", k, "'");
    defaults[k] = v;
  }
  std::vector<optim::ParamGroup> groups{{params, defaults}};
  if (name == "sgd") return std::make_shared<optim::SGD>(groups, optim::SGDOptions());
  if (name == "adam") return std::make_shared<optim::Adam>(groups, optim::AdamOptions());
  if (name == "adamw") return std::make_shared<optim::AdamW>(groups, optim::AdamWOptions());
  if (name == "rmsprop") return std::make_shared<optim::RMSprop>(groups, optim::RMSpropOptions());
  return std::make_shared<optim::Adagrad>(groups, optim::AdagradOptions());
}

std::string optimizer_registry_name(const optim::Optimizer& optimizer) {
  return lower(optimizer.name());
}

StepResult train_step(nn::Module& model, optim::Optimizer& optimizer, const LossFn& loss_fn, const Tensor& x,
                      const Tensor& y) {
  optimizer.zero_grad();
  Tensor out = model.forward(x);
  Tensor loss = loss_fn(out, y);
  loss.backward();
  optimizer.step();
  return {loss.item(), out.detach()};
}

EpochResult train_epoch(nn::Module& model, optim::Optimizer& optimizer, const LossFn& loss_fn,
                        data::DataLoader& loader, const std::vector<Metric*>& metrics,
                        const BatchCallback& on_batch) {
  model.train();
  for (Metric* m : metrics) m->reset();
  BatchInfo info;
  info.num_batches = loader.num_batches();
  info.total_samples = loader.dataset_size();
  info.metrics = &metrics;
  double loss_sum = 0;
  for (const data::Batch& b : loader) {
    StepResult r = train_step(model, optimizer, loss_fn, b.x, b.y);
    int64_t n = b.x.size(0);
    for (Metric* m : metrics) m->update(r.output, b.y);
    loss_sum += r.loss * n;
    info.samples += n;
    info.loss = loss_sum / info.samples;
    if (on_batch) on_batch(info);
    ++info.batch;
  }
  EpochResult res;
  res.loss = info.samples ? loss_sum / info.samples : 0.0;
  res.samples = info.samples;
  for (Metric* m : metrics) res.metrics.emplace_back(m->name(), m->result());
  return res;
}

EpochResult evaluate(nn::Module& model, const LossFn& loss_fn, data::DataLoader& loader,
                     const std::vector<Metric*>& metrics) {
  bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  for (Metric* m : metrics) m->reset();
  double loss_sum = 0;
  int64_t samples = 0;
  try {
    for (const data::Batch& b : loader) {
      Tensor out = model.forward(b.x);
      int64_t n = b.x.size(0);
      if (loss_fn) loss_sum += loss_fn(out, b.y).item() * n;
      for (Metric* m : metrics) m->update(out, b.y);
      samples += n;
    }
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  EpochResult res;
  res.loss = samples ? loss_sum / samples : 0.0;
  res.samples = samples;
  for (Metric* m : metrics) res.metrics.emplace_back(m->name(), m->result());
  return res;
}

}  // namespace ember::train
