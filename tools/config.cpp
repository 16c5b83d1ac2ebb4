// Parsing is strict on purpose: an unknown field is more often a typo than an extension, and a user should
// learn about it before a long training run, not after.
#include "config.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include "ember/ember.h"
#include "ember/io/atomic_file.h"

namespace ember::tools {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& source, const std::string& field, const std::string& expected,
                      const Json* got) {
  std::string msg = source + ": field '" + field + "': expected " + expected;
  if (got) msg += ", got " + got->dump();
  throw ValueError(msg);
}

void check_known(const Json& j, const std::set<std::string>& known, const std::string& source,
                 const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!known.count(it.key())) {
      std::string list;
      for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ValueError(source + ": unknown field '" + (where.empty() ? "" : where + ".") + it.key() +
                       "' (known: " + list + ")");
    }
  }
}

int64_t get_int(const Json& j, const std::string& key, const std::string& source, const std::string& field,
                int64_t min_value) {
  const Json& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < min_value)
    bad(source, field, "an integer >= " + std::to_string(min_value), &v);
  return v.get<int64_t>();
}

double get_number(const Json& j, const std::string& key, const std::string& source, const std::string& field,
                  double lo, double hi) {
  const Json& v = j.at(key);
  if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
    std::ostringstream os;
    os << "a number in [" << lo << ", " << hi << "]";
    bad(source, field, os.str(), &v);
  }
  return v.get<double>();
}

std::string get_string(const Json& j, const std::string& key, const std::string& source, const std::string& field) {
  const Json& v = j.at(key);
  if (!v.is_string()) bad(source, field, "a string", &v);
  return v.get<std::string>();
}

const char* kSeedCnn = R"({
  "model": {"input_shape": [1, 28, 28], "layers": [
    {"type": "Conv2D", "filters": 32, "kernel_size": [3, 3], "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": [2, 2]},
    {"type": "Flatten"},
    {"type": "Dense", "units": 128, "activation": "relu"},
    {"type": "Dense", "units": 10}]},
  "compile": {"optimizer": {"name": "adam", "lr": 0.001}, "loss": "sparse_categorical_crossentropy",
              "from_logits": true, "metrics": ["accuracy"]},
  "data": {"dataset": "fashion_mnist", "validate_on_test": true}, "lr_decay": 0.75,
  "epochs": 10, "batch_size": 64, "seed": 1, "output_dir": "runs/seed_cnn"
})";

// Seeded augmentation per example: the k-th visit of example i draws from sample_seed(seed, k, i), so the
// augmented data depend only on the seed and the visiting order, never on threads.
class AugmentedDataset : public data::Dataset {
 public:
  AugmentedDataset(data::DatasetPtr base, data::AugmentationPtr aug, uint64_t seed)
      : base_(std::move(base)), aug_(std::move(aug)), seed_(seed), visits_(static_cast<size_t>(base_->size()), 0) {}
  int64_t size() const override { return base_->size(); }
  data::Example get(int64_t i) const override {
    data::Example ex = base_->get(i);
    uint64_t s = data::sample_seed(seed_, visits_[static_cast<size_t>(i)]++, i);
    ex.x = data::apply_augmentation(*aug_, ex.x, s);
    return ex;
  }

 private:
  data::DatasetPtr base_;
  data::AugmentationPtr aug_;
  uint64_t seed_;
  mutable std::vector<int64_t> visits_;
};

data::AugmentationPtr make_augmentation(const AugmentConfig& a) {
  std::vector<data::AugmentationPtr> parts;
  if (a.rotation > 0) parts.push_back(data::random_rotation(a.rotation));
  if (a.scale_min != 1 || a.scale_max != 1) parts.push_back(data::random_scale(a.scale_min, a.scale_max));
  if (a.translate > 0) parts.push_back(data::random_translation(a.translate, a.translate));
  if (a.crop_padding > 0) parts.push_back(data::random_crop(a.crop_padding));
  if (a.horizontal_flip > 0) parts.push_back(data::horizontal_flip(a.horizontal_flip));
  return data::compose(std::move(parts));
}

}  // namespace

TrainConfig parse_train_config(const Json& j, const std::string& source) {
  if (!j.is_object()) bad(source, "(top level)", "a JSON object", &j);
  check_known(j, {"model", "compile", "data", "epochs", "batch_size", "seed", "threads", "output_dir",
                  "early_stopping", "lr_decay"},
              source, "");
  TrainConfig c;
  if (j.contains("lr_decay")) c.lr_decay = get_number(j, "lr_decay", source, "lr_decay", 1e-6, 1);
  if (j.contains("epochs")) c.epochs = get_int(j, "epochs", source, "epochs", 1);
  if (j.contains("batch_size")) c.batch_size = get_int(j, "batch_size", source, "batch_size", 1);
  if (j.contains("seed")) c.seed = static_cast<uint64_t>(get_int(j, "seed", source, "seed", 0));
  if (j.contains("threads")) c.threads = static_cast<int>(get_int(j, "threads", source, "threads", 0));
  if (j.contains("output_dir")) c.output_dir = get_string(j, "output_dir", source, "output_dir");
  if (j.contains("early_stopping")) {
    const Json& e = j["early_stopping"];
    if (!e.is_object()) bad(source, "early_stopping", "an object", &e);
    check_known(e, {"monitor", "patience"}, source, "early_stopping");
    c.early_stopping_patience = e.contains("patience") ? get_int(e, "patience", source, "early_stopping.patience", 0) : 0;
    if (e.contains("monitor")) c.monitor = get_string(e, "monitor", source, "early_stopping.monitor");
  }
  if (!j.contains("model")) throw ValueError(source + ": missing field 'model' (the layers of the network)");
  const Json& m = j["model"];
  if (!m.is_object() || !m.contains("layers") || !m["layers"].is_array() || m["layers"].empty())
    bad(source, "model", "an object with a non-empty \"layers\" array", &m);
  c.model = m;
  // Validate the model now (field errors name the layer), without allocating its weights twice later.
  try {
    keras::model_from_json(m);
  } catch (const Error& e) {
    throw ValueError(source + ": field 'model': " + e.what());
  }
  // Without "compile": Adam, integer labels, logits out, accuracy (what the seed models use).
  c.compile = j.value("compile", Json{{"optimizer", "adam"},
                                      {"loss", "sparse_categorical_crossentropy"},
                                      {"from_logits", true},
                                      {"metrics", {"accuracy"}}});
  if (!c.compile.is_object()) bad(source, "compile", "an object", &c.compile);
  try {
    keras::CompileOptions::from_json(c.compile);
  } catch (const Error& e) {
    throw ValueError(source + ": field 'compile': " + e.what());
  }
  if (j.contains("data")) {
    const Json& d = j["data"];
    if (!d.is_object()) bad(source, "data", "an object", &d);
    check_known(d, {"dataset", "validation_split", "validate_on_test", "limit", "augment"}, source, "data");
    if (d.contains("validate_on_test")) {
      const Json& v = d["validate_on_test"];
      if (!v.is_boolean()) bad(source, "data.validate_on_test", "true or false", &v);
      c.validate_on_test = v.get<bool>();
    }
    if (d.contains("dataset")) {
      c.dataset = get_string(d, "dataset", source, "data.dataset");
      static const std::set<std::string> known{"fashion_mnist", "fashion-mnist", "mnist"};
      if (!known.count(c.dataset)) {
        const Json& v = d["dataset"];
        bad(source, "data.dataset", "one of \"fashion_mnist\", \"mnist\"", &v);
      }
    }
    if (d.contains("validation_split"))
      c.validation_split = get_number(d, "validation_split", source, "data.validation_split", 0, 0.9);
    if (d.contains("limit")) c.limit = get_int(d, "limit", source, "data.limit", 0);
    if (d.contains("augment")) {
      const Json& a = d["augment"];
      if (!a.is_object()) bad(source, "data.augment", "an object", &a);
      check_known(a, {"rotation", "crop_padding", "scale", "translate", "horizontal_flip"}, source, "data.augment");
      if (a.contains("rotation")) c.augment.rotation = get_number(a, "rotation", source, "data.augment.rotation", 0, 180);
      if (a.contains("crop_padding"))
        c.augment.crop_padding = get_int(a, "crop_padding", source, "data.augment.crop_padding", 0);
      if (a.contains("translate"))
        c.augment.translate = get_number(a, "translate", source, "data.augment.translate", 0, 0.5);
      if (a.contains("horizontal_flip"))
        c.augment.horizontal_flip = get_number(a, "horizontal_flip", source, "data.augment.horizontal_flip", 0, 1);
      if (a.contains("scale")) {
        const Json& s = a["scale"];
        if (!s.is_array() || s.size() != 2 || !s[0].is_number() || !s[1].is_number() || s[0].get<double>() <= 0 ||
            s[0].get<double>() > s[1].get<double>())
          bad(source, "data.augment.scale", "[min, max] with 0 < min <= max", &s);
        c.augment.scale_min = s[0].get<double>();
        c.augment.scale_max = s[1].get<double>();
      }
    }
  }
  EMBER_CHECK(!(c.validate_on_test && c.validation_split > 0), ValueError, source,
              ": fields 'data.validate_on_test' and 'data.validation_split' exclude each other");
  if (c.monitor.rfind("val_", 0) == 0 && c.validation_split == 0 && c.early_stopping_patience)
    throw ValueError(source + ": field 'early_stopping.monitor': '" + c.monitor +
                     "' needs validation data; set data.validation_split > 0");
  return c;
}

TrainConfig default_train_config() { return parse_train_config(Json::parse(kSeedCnn), "the default config"); }

TrainConfig load_train_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IOError("cannot open config '" + path + "'");
  Json j;
  try {
    j = Json::parse(in);
  } catch (const Json::parse_error& e) {
    throw ValueError(path + ": not valid JSON: " + e.what());
  }
  return parse_train_config(j, path);
}

Json to_json(const TrainConfig& c) {
  Json j;
  j["model"] = c.model;
  j["compile"] = c.compile;
  j["data"] = {{"dataset", c.dataset},
               {"validation_split", c.validation_split},
               {"validate_on_test", c.validate_on_test},
               {"limit", c.limit}};
  if (c.lr_decay != 1) j["lr_decay"] = c.lr_decay;
  if (c.augment.any())
    j["data"]["augment"] = {{"rotation", c.augment.rotation},
                            {"crop_padding", c.augment.crop_padding},
                            {"scale", {c.augment.scale_min, c.augment.scale_max}},
                            {"translate", c.augment.translate},
                            {"horizontal_flip", c.augment.horizontal_flip}};
  j["epochs"] = c.epochs;
  j["batch_size"] = c.batch_size;
  j["seed"] = c.seed;
  j["threads"] = c.threads;
  j["output_dir"] = c.output_dir;
  if (c.early_stopping_patience)
    j["early_stopping"] = {{"monitor", c.monitor}, {"patience", *c.early_stopping_patience}};
  return j;
}

void apply_overrides(TrainConfig& c, const TrainOverrides& o) {
  if (o.epochs) {
    EMBER_CHECK(*o.epochs >= 1, ValueError, "--epochs: expected an integer >= 1, got ", *o.epochs);
    c.epochs = *o.epochs;
  }
  if (o.batch_size) {
    EMBER_CHECK(*o.batch_size >= 1, ValueError, "--batch-size: expected an integer >= 1, got ", *o.batch_size);
    c.batch_size = *o.batch_size;
  }
  if (o.limit) {
    EMBER_CHECK(*o.limit >= 0, ValueError, "--limit: expected an integer >= 0, got ", *o.limit);
    c.limit = *o.limit;
  }
  if (o.lr) {
    EMBER_CHECK(*o.lr > 0, ValueError, "--lr: expected a positive number, got ", *o.lr);
    Json& opt = c.compile["optimizer"];
    if (opt.is_null()) opt = Json{{"name", "adam"}};
    if (opt.is_string()) opt = Json{{"name", opt.get<std::string>()}};
    opt["lr"] = *o.lr;
  }
  if (o.seed) c.seed = *o.seed;
  if (o.threads) c.threads = *o.threads;
  if (!o.output_dir.empty()) c.output_dir = o.output_dir;
  if (o.quiet) c.quiet = true;
}

int run_training(const TrainConfig& c, std::ostream& out) {
  auto t_start = std::chrono::steady_clock::now();
  manual_seed(c.seed);
  keras::NamedDataset ds = keras::load_dataset(c.dataset);
  data::DatasetPtr train = ds.train;
  if (c.limit > 0 && c.limit < train->size()) {
    std::vector<int64_t> idx(static_cast<size_t>(c.limit));
    for (int64_t i = 0; i < c.limit; ++i) idx[static_cast<size_t>(i)] = i;
    train = std::make_shared<data::Subset>(train, idx);
  }
  data::DatasetPtr val;
  if (c.validation_split > 0) {
    // The last fraction is held out (before shuffling, like Keras' validation_split).
    int64_t n = train->size();
    int64_t n_val = static_cast<int64_t>(static_cast<double>(n) * c.validation_split);
    EMBER_CHECK(n_val >= 1 && n_val < n, ValueError, "data.validation_split ", c.validation_split,
                " leaves no training or no validation examples of ", n);
    std::vector<int64_t> tr(static_cast<size_t>(n - n_val)), va(static_cast<size_t>(n_val));
    for (int64_t i = 0; i < n - n_val; ++i) tr[static_cast<size_t>(i)] = i;
    for (int64_t i = 0; i < n_val; ++i) va[static_cast<size_t>(i)] = n - n_val + i;
    val = std::make_shared<data::Subset>(train, va);
    train = std::make_shared<data::Subset>(train, tr);
  }
  if (c.validate_on_test) val = ds.test;
  if (c.augment.any()) train = std::make_shared<AugmentedDataset>(train, make_augmentation(c.augment), c.seed);
  out << "data: " << c.dataset << ", " << train->size() << " training, "
      << (c.validate_on_test ? 0 : (val ? val->size() : 0)) << " validation, " << ds.test->size() << " test examples\n";

  auto model = keras::model_from_json(c.model);
  model->build();
  model->compile(keras::CompileOptions::from_json(c.compile));
  model->summary(out);

  fs::create_directories(c.output_dir);
  std::string model_path = (fs::path(c.output_dir) / "model.safetensors").string();
  {
    // config.json first: `ember evaluate` finds the dataset through it.
    std::string cfg_text = to_json(c).dump(2) + "\n";
    std::string cfg_path = (fs::path(c.output_dir) / "config.json").string();
    io::atomic_write(cfg_path, [&](std::FILE* f) { io::write_all(f, cfg_text.data(), cfg_text.size(), cfg_path); });
  }
  std::vector<keras::CallbackPtr> callbacks;
  callbacks.push_back(std::make_shared<keras::CSVLogger>((fs::path(c.output_dir) / "history.csv").string()));
  callbacks.push_back(std::make_shared<keras::JsonLinesLogger>((fs::path(c.output_dir) / "history.jsonl").string()));
  if (c.lr_decay != 1) {
    double gamma = c.lr_decay;
    callbacks.push_back(std::make_shared<keras::LearningRateScheduler>(
        [gamma](int64_t epoch, double lr) { return epoch == 0 ? lr : lr * gamma; }));
  }
  if (val && !c.validate_on_test)
    callbacks.push_back(std::make_shared<keras::ModelCheckpoint>(
        (fs::path(c.output_dir) / "best.safetensors").string(), c.monitor.rfind("val_", 0) == 0 ? c.monitor : "val_loss",
        true));
  if (c.early_stopping_patience)
    callbacks.push_back(std::make_shared<keras::EarlyStopping>(
        keras::EarlyStoppingOptions().monitor(c.monitor).patience(*c.early_stopping_patience).restore_best_weights(true)));

  keras::FitOptions fo;
  fo.epochs(c.epochs).batch_size(c.batch_size).seed(c.seed).shuffle(true).callbacks(callbacks).verbose(c.quiet ? 0 : 1);
  if (val) fo.validation_data(val);
  auto t_fit = std::chrono::steady_clock::now();
  keras::History h = model->fit(train, fo);
  double fit_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_fit).count();
  model->save(model_path);

  keras::Logs test = model->evaluate(ds.test, 256);
  double total_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  int64_t epochs_run = static_cast<int64_t>(h.epoch.size());
  out << std::fixed << std::setprecision(1) << "trained " << epochs_run << " epochs in " << fit_secs << " s ("
      << std::setprecision(0) << static_cast<double>(train->size() * epochs_run) / fit_secs << " samples/s); total "
      << std::setprecision(1) << total_secs << " s\n";
  out << "model saved to " << model_path << "\n";
  out << std::setprecision(4) << "test loss: " << test["loss"];
  for (auto& [k, v] : test)
    if (k != "loss") out << "  test " << k << ": " << v;
  out << "\n";
  if (test.count("accuracy")) out << "TEST ACCURACY: " << std::setprecision(2) << 100.0 * test["accuracy"] << "%\n";
  return 0;
}

}  // namespace ember::tools
