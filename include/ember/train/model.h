// keras::Sequential: the Keras-like path. A list of Keras layers whose input sizes are inferred from the
// input shape; compile() picks the optimizer, loss and metrics (by name or as objects); fit() trains with
// batching, shuffling, validation and callbacks and returns a History; evaluate(), predict(), summary(),
// save()/load_model() and save_weights() (PyTorch state_dict names, readable by torch).
//
//   using namespace ember::keras;
//   Sequential model({Input({1, 28, 28}), Conv2D(32, {3, 3}, "relu"), MaxPooling2D({2, 2}), Flatten(),
//                     Dense(128, "relu"), Dense(10)});
//   model.compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                     .from_logits(true).metrics({"accuracy"}));
//   History h = model.fit(x_train, y_train, FitOptions().epochs(5).batch_size(64).validation_split(0.1));
//   Logs test = model.evaluate(x_test, y_test);     // {"loss": ..., "accuracy": ...}
//   Tensor probs = model.predict(x_test);
//   model.summary();                                // Keras-style table
//   model.save("fmnist.safetensors");  auto again = load_model("fmnist.safetensors");  again->fit(...);
//
// model.module() is the nn::Sequential underneath (PyTorch names 0.weight, 0.bias, ...): usable with the
// building blocks of loop.h in a hand-written loop. Training is deterministic given manual_seed() before
// building and FitOptions::seed (the shuffle order depends on (seed, epoch) only).
#pragma once

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/data/dataset.h"
#include "ember/optim/arena.h"
#include "ember/train/callbacks.h"
#include "ember/train/layers.h"
#include "ember/train/loop.h"
#include "ember/train/metrics.h"

namespace ember::keras {

// Per-epoch values by name ("loss", "accuracy", "val_loss", "lr", ...) and the (0-based) epoch numbers.
struct History {
  std::vector<int64_t> epoch;
  std::map<std::string, std::vector<double>> history;
  // ValueError naming the key (and the known keys) when absent.
  const std::vector<double>& operator[](const std::string& key) const;
  bool contains(const std::string& key) const { return history.count(key) != 0; }
};

class CompileOptions {
 public:
  // By name ("sgd", "adam", "adamw", "rmsprop", "adagrad") with optional option overrides ({"lr", 0.01}).
  CompileOptions& optimizer(const std::string& name, const std::map<std::string, double>& options = {});
  // An optimizer object built over model.module()->parameters() (build the model first).
  CompileOptions& optimizer(std::shared_ptr<optim::Optimizer> opt);
  CompileOptions& loss(const std::string& name);
  // A custom loss(output, target); a model file then records its name but load_model cannot restore it.
  CompileOptions& loss(train::LossFn fn, const std::string& name = "custom");
  CompileOptions& from_logits(bool v);
  CompileOptions& metrics(const std::vector<std::string>& names);
  CompileOptions& metric(train::MetricPtr m);

  // {"optimizer": {"name": "adam", "lr": 0.001, ...}, "loss": "...", "from_logits": false, "metrics": [...]}
  Json to_json() const;
  // Accepts "optimizer" as a name or {"name": ..., options...}; unknown fields -> ValueError naming them.
  static CompileOptions from_json(const Json& j);

  std::string optimizer_name_ = "adam";
  std::map<std::string, double> optimizer_options_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  std::string loss_name_;
  train::LossFn loss_fn_;
  bool from_logits_ = false;
  std::vector<std::string> metric_names_;
  std::vector<train::MetricPtr> metric_objects_;
};

class FitOptions {
 public:
  FitOptions& epochs(int64_t v) {
    epochs_ = v;
    return *this;
  }
  FitOptions& batch_size(int64_t v) {
    batch_size_ = v;
    return *this;
  }
  // The last fraction of the examples (before shuffling, like Keras) is held out for validation.
  FitOptions& validation_split(double v) {
    validation_split_ = v;
    return *this;
  }
  FitOptions& validation_data(const Tensor& x, const Tensor& y) {
    validation_ = data::tensor_dataset(x, y);
    return *this;
  }
  FitOptions& validation_data(data::DatasetPtr ds) {
    validation_ = std::move(ds);
    return *this;
  }
  FitOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  FitOptions& seed(uint64_t v) {
    seed_ = v;
    return *this;
  }
  FitOptions& callbacks(std::vector<CallbackPtr> v) {
    callbacks_ = std::move(v);
    return *this;
  }
  // 0 silent, 1 progress bar (live on a terminal, one line per epoch otherwise).
  FitOptions& verbose(int v) {
    verbose_ = v;
    return *this;
  }
  // Background threads preparing batches (0: in the training thread).
  FitOptions& num_workers(int v) {
    num_workers_ = v;
    return *this;
  }
  int64_t epochs_ = 1, batch_size_ = 32;
  double validation_split_ = 0;
  data::DatasetPtr validation_;
  bool shuffle_ = true;
  uint64_t seed_ = 0;
  std::vector<CallbackPtr> callbacks_;
  int verbose_ = 1;
  int num_workers_ = 0;
};

class Sequential {
 public:
  explicit Sequential(std::vector<LayerPtr> layers = {}, std::string name = "sequential");
  Sequential(const Sequential&) = delete;
  Sequential& operator=(const Sequential&) = delete;

  void add(LayerPtr layer);
  // Creates the modules. The per-sample input shape comes from `input_shape`, else from an Input layer or the
  // first layer's input_shape; fit/evaluate/predict build on first use from the data's shape otherwise.
  void build(std::optional<Shape> input_shape = std::nullopt);
  bool built() const { return built_; }
  const std::vector<LayerPtr>& layers() const { return layers_; }
  const std::string& name() const { return name_; }
  // The nn::Sequential underneath (built on demand; ValueError when the input shape is unknown).
  std::shared_ptr<nn::Sequential> module();
  Shape input_shape() const { return input_shape_; }
  Shape output_shape() const;

  void compile(const CompileOptions& options);
  void compile(const std::string& optimizer, const std::string& loss,
               const std::vector<std::string>& metrics = {}, bool from_logits = false);
  bool compiled() const { return optimizer_ != nullptr; }
  const CompileOptions& compile_options() const { return compile_; }
  optim::Optimizer& optimizer();
  const train::LossFn& loss_fn() const { return loss_; }

  History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {});
  History fit(data::DatasetPtr train, const FitOptions& options = {});
  // {"loss": ..., <metric>: ...} in eval mode, without gradients.
  Logs evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32);
  Logs evaluate(data::DatasetPtr ds, int64_t batch_size = 32);
  // Outputs for every row of x, in eval mode, batch by batch (N, *output_shape).
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  // Epochs trained so far (saved in model files; the next fit continues from here).
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t e) { epoch_ = e; }
  // Callbacks set this to end fit() after the current epoch.
  bool stop_training = false;

  // The Keras-style table: layer name (type), output shape (None = batch), param #, totals.
  std::string summary_string(int line_length = 65) const;
  void summary(std::ostream& os = std::cout) const;
  int64_t count_params() const;

  // {"class_name": "Sequential", "name": ..., "input_shape": [...], "layers": [...]}.
  Json to_json() const;
  std::string to_json_string(int indent = 2) const;

  // safetensors with the PyTorch state_dict names (parameters and buffers), written atomically.
  void save_weights(const std::string& path);
  // Loads a state_dict file (strict: names and shapes must match; IOError / ValueError naming the file).
  void load_weights(const std::string& path);
  // One safetensors file: weights, "optimizer.<name>" state tensors, and __metadata__ with the architecture,
  // compile config, epoch and optimizer scalars.
  void save(const std::string& path);

 private:
  friend std::shared_ptr<Sequential> load_model(const std::string& path);
  void ensure_built(const Tensor& sample_batch);
  void ensure_built(const data::Dataset& ds);
  void check_compiled(const char* what) const;
  std::vector<train::Metric*> metric_ptrs(bool validation);

  std::vector<LayerPtr> layers_;
  std::string name_;
  bool built_ = false;
  Shape input_shape_;
  std::shared_ptr<nn::Sequential> module_;
  std::unique_ptr<optim::ParameterArena> arena_;
  CompileOptions compile_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  train::LossFn loss_;
  std::vector<train::MetricPtr> train_metrics_, val_metrics_;
  int64_t epoch_ = 0;
};

// Builds (but does not compile) a model from to_json() text / JSON. Errors name the layer and field.
std::shared_ptr<Sequential> model_from_json(const std::string& text);
std::shared_ptr<Sequential> model_from_json(const Json& j);
// A model file written by save(): architecture, weights and (when present) the compile config, optimizer
// state and epoch. A corrupt or truncated file is an IOError naming the file.
std::shared_ptr<Sequential> load_model(const std::string& path);

// Data sets by name, for tools: "fashion_mnist" / "fashion-mnist", "mnist" (see ember/data/readers.h).
struct NamedDataset {
  data::DatasetPtr train, test;
  std::vector<std::string> class_names;
};
NamedDataset load_dataset(const std::string& name);

}  // namespace ember::keras
