// The training building blocks under keras::Sequential::fit, public so that a hand-written loop can use them:
// train_step (forward, loss, backward, optimizer step), train_epoch (one pass over a DataLoader with running
// loss and metrics) and evaluate (no gradients, eval mode). Plus losses and optimizers by Keras name.
//
//   auto model = std::make_shared<ember::nn::Sequential>(...);
//   ember::optim::Adam opt(model->parameters(), ember::optim::AdamOptions(1e-3));
//   auto loss_fn = ember::train::make_loss("sparse_categorical_crossentropy", /*from_logits=*/true);
//   ember::data::DataLoader loader(train_set, ember::data::DataLoaderOptions().batch_size(64).shuffle(true));
//   ember::train::Accuracy acc;
//   for (int epoch = 0; epoch < 5; ++epoch) {
//     auto r = ember::train::train_epoch(*model, opt, loss_fn, loader, {&acc});
//     auto v = ember::train::evaluate(*model, loss_fn, test_loader, {&acc});   // r.loss, v.metrics[0].second
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ember/nn/module.h"
#include "ember/optim/optimizer.h"
#include "ember/train/metrics.h"

namespace ember::data {
class DataLoader;
}

namespace ember::train {

// loss(output, target) -> a scalar tensor (PyTorch's argument order: prediction first).
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

// Losses by Keras name: "mse"/"mean_squared_error", "mae"/"mean_absolute_error",
// "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy" (each honours
// from_logits like Keras: without it the output is taken as probabilities), and "cross_entropy" (PyTorch's
// nn.CrossEntropyLoss on logits with class indices). A target with the output's element count but another
// shape (y (N,) for output (N, 1)) is viewed as the output's shape; integer targets of the binary and
// regression losses are converted to float. Unknown name -> ValueError listing the known ones.
LossFn make_loss(const std::string& name, bool from_logits = false);

// Optimizers by name: "sgd", "adam", "adamw", "rmsprop", "adagrad" (case-insensitive). `options` overrides
// the defaults by the optim layer's option names ("lr", "momentum", "beta1", "weight_decay", ...). Without an
// "lr" the Keras defaults apply (sgd 0.01, others 0.001; rmsprop alpha 0.9 like Keras' rho). Unknown name or
// option -> ValueError naming it.
std::shared_ptr<optim::Optimizer> make_optimizer(const std::string& name, const std::vector<Tensor>& params,
                                                 const std::map<std::string, double>& options = {});
// The lower-case registry name of an optimizer object ("adam", "adamw", ...).
std::string optimizer_registry_name(const optim::Optimizer& optimizer);

struct StepResult {
  double loss = 0;  // the batch's loss
  Tensor output;    // the model's output for the batch (detached)
};

// One optimisation step on one batch: zero_grad (in place), forward, loss, backward, step.
StepResult train_step(nn::Module& model, optim::Optimizer& optimizer, const LossFn& loss_fn, const Tensor& x,
                      const Tensor& y);

// What a BatchCallback sees after each training batch.
struct BatchInfo {
  int64_t batch = 0;        // 0-based index within the epoch
  int64_t num_batches = 0;  // in the epoch
  int64_t samples = 0;      // seen so far in the epoch
  int64_t total_samples = 0;
  double loss = 0;  // running mean over the epoch so far (weighted by batch size)
  const std::vector<Metric*>* metrics = nullptr;  // running values: metrics->at(i)->result()
};
using BatchCallback = std::function<void(const BatchInfo&)>;

struct EpochResult {
  double loss = 0;                                      // mean over samples
  int64_t samples = 0;                                  // seen
  std::vector<std::pair<std::string, double>> metrics;  // name, value, in the order given
};

// One pass of train_step over every batch of `loader` (model in training mode). Metrics are reset first and
// updated with each batch's outputs.
EpochResult train_epoch(nn::Module& model, optim::Optimizer& optimizer, const LossFn& loss_fn,
                        data::DataLoader& loader, const std::vector<Metric*>& metrics = {},
                        const BatchCallback& on_batch = {});

// Loss and metrics over `loader` in eval mode without recording a graph; restores the previous mode.
EpochResult evaluate(nn::Module& model, const LossFn& loss_fn, data::DataLoader& loader,
                     const std::vector<Metric*>& metrics = {});

}  // namespace ember::train
