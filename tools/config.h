// The `ember train` configuration: a JSON file naming the model (the Keras-style layers), the data, the
// optimizer and loss, and the training schedule. Every field is checked; an error names the file, the field
// and what was expected. See docs/cli.md for the schema and configs/*.json for the shipped examples.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ember::tools {

struct AugmentConfig {
  double rotation = 0;           // degrees, uniform in [-r, r]
  int64_t crop_padding = 0;      // random crop after zero padding
  double scale_min = 1, scale_max = 1;
  double translate = 0;          // fraction of the size, each axis
  double horizontal_flip = 0;    // probability
  bool any() const {
    return rotation > 0 || crop_padding > 0 || scale_min != 1 || scale_max != 1 || translate > 0 ||
           horizontal_flip > 0;
  }
};

struct TrainConfig {
  nlohmann::json model;       // {"input_shape": [...], "layers": [...]} (keras::model_from_json)
  nlohmann::json compile;     // {"optimizer": ..., "loss": ..., "from_logits": ..., "metrics": [...]}
  std::string dataset = "fashion_mnist";
  double validation_split = 0;
  bool validate_on_test = false;  // report test-split metrics after every epoch (never used for decisions)
  double lr_decay = 1;            // the learning rate is multiplied by this after every epoch
  int64_t limit = 0;          // 0: all training examples
  AugmentConfig augment;
  int64_t epochs = 1;
  int64_t batch_size = 32;
  uint64_t seed = 1;
  int threads = 0;
  std::string output_dir = "runs/default";
  std::optional<int64_t> early_stopping_patience;
  std::string monitor = "val_loss";
  bool quiet = false;
};

struct TrainOverrides {
  std::optional<int64_t> epochs, batch_size, limit;
  std::optional<double> lr;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  std::string output_dir;
  bool quiet = false;
};

// The default of `ember train` with no config: the seed CNN with Adam on Fashion-MNIST (configs/seed_cnn.json).
TrainConfig default_train_config();
// Parses and validates a config; `source` names it in errors.
TrainConfig parse_train_config(const nlohmann::json& j, const std::string& source);
TrainConfig load_train_config(const std::string& path);
nlohmann::json to_json(const TrainConfig& c);
void apply_overrides(TrainConfig& c, const TrainOverrides& o);

// Trains as configured: loads the data, builds and compiles the model, fits with progress, evaluates on the
// test split, saves model.safetensors, config.json, history.csv and history.jsonl in output_dir. Returns 0.
int run_training(const TrainConfig& c, std::ostream& out);

}  // namespace ember::tools
