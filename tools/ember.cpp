// The `ember` command: train, evaluate, predict with and summarise Ember models from the shell.
//
//   ember train                        # the seed CNN on Fashion-MNIST, reports test accuracy
//   ember train configs/mlp.json --epochs 2 --out runs/mlp
//   ember evaluate runs/seed_cnn/model.safetensors
//   ember predict runs/seed_cnn/model.safetensors fashion_mnist:17
//   ember predict runs/seed_cnn/model.safetensors shirt.png
//   ember summary configs/seed_cnn.json
//
// Every error is one line on stderr naming what is wrong (a config field, a file) and a non-zero exit code.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config.h"
#include "ember/ember.h"

namespace fs = std::filesystem;
using namespace ember;
using Json = nlohmann::json;

namespace {

// Exit codes: 1 bad input (config, arguments, files), 2 usage (CLI11), 3 internal error.
constexpr int kBadInput = 1;
constexpr int kInternal = 3;

// The dataset a model file was trained on (recorded by `ember train`), else Fashion-MNIST.
std::string dataset_of(const std::string& model_path, const std::string& override_name) {
  if (!override_name.empty()) return override_name;
  fs::path cfg = fs::path(model_path).parent_path() / "config.json";
  if (fs::exists(cfg)) {
    try {
      tools::TrainConfig c = tools::load_train_config(cfg.string());
      return c.dataset;
    } catch (const Error&) {
    }
  }
  return "fashion_mnist";
}

int cmd_train(const std::string& config_path, const tools::TrainOverrides& ov) {
  tools::TrainConfig cfg = config_path.empty() ? tools::default_train_config() : tools::load_train_config(config_path);
  tools::apply_overrides(cfg, ov);
  if (cfg.threads > 0) set_num_threads(cfg.threads);
  std::cout << "ember train: " << (config_path.empty() ? std::string("default seed CNN") : config_path) << " on "
            << cfg.dataset << ", " << cfg.epochs << " epochs, batch " << cfg.batch_size << ", " << num_threads()
            << " threads\n";
  return tools::run_training(cfg, std::cout);
}

int cmd_evaluate(const std::string& model_path, const std::string& dataset, int64_t batch_size) {
  auto model = keras::load_model(model_path);
  std::string name = dataset_of(model_path, dataset);
  keras::NamedDataset ds = keras::load_dataset(name);
  auto t0 = std::chrono::steady_clock::now();
  keras::Logs logs = model->evaluate(ds.test, batch_size);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "ember evaluate: " << model_path << " on " << name << " test (" << ds.test->size() << " examples, "
            << std::fixed << std::setprecision(2) << secs << " s)\n";
  for (auto& [k, v] : logs) std::cout << "  " << k << ": " << std::setprecision(4) << v << "\n";
  return 0;
}

int cmd_predict(const std::string& model_path, const std::string& input, const std::string& dataset, int top) {
  auto model = keras::load_model(model_path);
  Shape in = model->input_shape();
  Tensor x;
  std::vector<std::string> class_names;
  std::string what;
  auto colon = input.rfind(':');
  bool is_file = fs::exists(input);
  if (!is_file && colon != std::string::npos) {
    // DATASET:INDEX, an example of the test split.
    std::string name = input.substr(0, colon);
    std::string idx_text = input.substr(colon + 1);
    int64_t idx = 0;
    try {
      size_t used = 0;
      idx = std::stoll(idx_text, &used);
      if (used != idx_text.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ValueError("predict: input '" + input + "': expected an image file or DATASET:INDEX, '" + idx_text +
                       "' is not an index");
    }
    keras::NamedDataset ds = keras::load_dataset(name);
    EMBER_CHECK(idx >= 0 && idx < ds.test->size(), IndexError, "predict: index ", idx, " is out of range for the ",
                name, " test split of ", ds.test->size(), " examples");
    data::Example ex = ds.test->get(idx);
    x = ex.x;
    class_names = ds.class_names;
    what = name + " test example " + std::to_string(idx) + " (label " + std::to_string(ex.y.item<int64_t>()) +
           (ex.y.item<int64_t>() < static_cast<int64_t>(class_names.size())
                ? " " + class_names[static_cast<size_t>(ex.y.item<int64_t>())]
                : std::string()) +
           ")";
  } else {
    EMBER_CHECK(is_file, IOError, "predict: input '", input, "' is neither a file nor DATASET:INDEX");
    EMBER_CHECK(in.size() == 3, ValueError, "predict: the model's input shape ", in.to_string(),
                " is not an image (C, H, W)");
    x = data::load_image(input, in[1], in[2], in[0]);
    if (!dataset.empty()) class_names = keras::load_dataset(dataset).class_names;
    what = input;
  }
  x = reshape(x, [&] {
    Shape s{1};
    for (int64_t d : x.shape()) s.push_back(d);
    return s;
  }());
  Tensor out = model->predict(x, 1);
  Tensor probs = out;
  if (model->compile_options().from_logits_ || model->compile_options().loss_name_.empty()) {
    float total = 0;
    auto v = out.to_vector<float>();
    for (float f : v) total += f;
    bool looks_like_probs = std::all_of(v.begin(), v.end(), [](float f) { return f >= 0 && f <= 1; }) &&
                            std::abs(total - 1.0f) < 1e-3f;
    if (!looks_like_probs) probs = softmax(out, -1);
  }
  std::vector<float> p = probs.to_vector<float>();
  std::vector<int> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
  auto label = [&](int c) {
    return c < static_cast<int>(class_names.size()) ? std::to_string(c) + " " + class_names[c] : std::to_string(c);
  };
  std::cout << "ember predict: " << what << "\n";
  std::cout << "class: " << label(order[0]) << " (p = " << std::fixed << std::setprecision(4) << p[order[0]]
            << ")\n";
  std::cout << "probabilities:\n";
  for (int i = 0; i < std::min<int>(top, static_cast<int>(order.size())); ++i)
    std::cout << "  " << std::left << std::setw(16) << label(order[i]) << " " << std::right << std::setprecision(4)
              << p[order[i]] << "\n";
  return 0;
}

int cmd_summary(const std::string& path) {
  std::shared_ptr<keras::Sequential> model;
  std::ifstream probe(path, std::ios::binary);
  EMBER_CHECK(probe.good(), IOError, "summary: cannot open '", path, "'");
  char first = 0;
  probe >> first;
  if (first == '{') {
    tools::TrainConfig cfg = tools::load_train_config(path);
    model = keras::model_from_json(cfg.model);
  } else {
    model = keras::load_model(path);
  }
  model->build();
  model->summary(std::cout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ember: train, evaluate and run Ember models (see README.md and docs/cli.md)"};
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", "ember 0.1.0");

  std::string config_path, model_path, input, dataset, data_dir;
  tools::TrainOverrides ov;
  int64_t batch_size = 256;
  int top = 5;

  CLI::App* train = app.add_subcommand("train", "Train a model. Without CONFIG: the seed CNN (Conv2D 32 3x3 relu, "
                                                "MaxPool 2, Flatten, Dense 128 relu, Dense 10) with Adam on "
                                                "Fashion-MNIST; prints progress and the test accuracy");
  train->add_option("config", config_path, "JSON config (see configs/*.json)")->check(CLI::ExistingFile);
  train->add_option("--epochs", ov.epochs, "override the config's epochs");
  train->add_option("--batch-size", ov.batch_size, "override the config's batch size");
  train->add_option("--lr", ov.lr, "override the optimizer's learning rate");
  train->add_option("--out", ov.output_dir, "output directory (model, config, logs)");
  train->add_option("--seed", ov.seed, "random seed (weights, shuffling, augmentation)");
  train->add_option("--threads", ov.threads, "threads (default: all cores)");
  train->add_option("--limit", ov.limit, "use only the first N training examples (quick runs)");
  train->add_option("--data-dir", data_dir, "where datasets live (default $EMBER_DATA_DIR)");
  train->add_flag("--quiet", ov.quiet, "no progress bar");

  CLI::App* evaluate = app.add_subcommand("evaluate", "Evaluate a saved model on its dataset's test split");
  evaluate->add_option("model", model_path, "model file written by `ember train`")->required();
  evaluate->add_option("--dataset", dataset, "dataset name (default: the one it was trained on)");
  evaluate->add_option("--batch-size", batch_size, "batch size");
  evaluate->add_option("--data-dir", data_dir, "where datasets live");

  CLI::App* predict = app.add_subcommand("predict", "Classify one input: an image file or DATASET:INDEX");
  predict->add_option("model", model_path, "model file")->required();
  predict->add_option("input", input, "image file (PNG/JPEG), or e.g. fashion_mnist:17 (a test example)")
      ->required();
  predict->add_option("--dataset", dataset, "dataset whose class names to print for an image file");
  predict->add_option("--top", top, "how many classes to list");
  predict->add_option("--data-dir", data_dir, "where datasets live");

  CLI::App* summary = app.add_subcommand("summary", "Print the Keras-style summary of a model file or config");
  summary->add_option("path", model_path, "model file or JSON config")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (!data_dir.empty()) data::set_data_dir(data_dir);
    if (*train) return cmd_train(config_path, ov);
    if (*evaluate) return cmd_evaluate(model_path, dataset, batch_size);
    if (*predict) return cmd_predict(model_path, input, dataset, top);
    if (*summary) return cmd_summary(model_path);
  } catch (const ember::Error& e) {
    std::cerr << "ember: error: " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "ember: internal error: " << e.what() << "\n";
    return kInternal;
  }
  return 0;
}
