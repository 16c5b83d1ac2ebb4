#include "ember/train/model.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/data/loader.h"
#include "ember/data/readers.h"
#include "ember/io/safetensors.h"
#include "ember/ops/ops.h"

namespace ember::keras {
namespace {

constexpr const char* kFormat = "ember.keras.sequential/1";

// Keras' automatic names: "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d".
std::string snake(const std::string& type) {
  std::string s;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    if (upper && i > 0 &&
        (std::islower(static_cast<unsigned char>(type[i - 1])) ||
         (i + 1 < type.size() && std::islower(static_cast<unsigned char>(type[i + 1])) &&
          std::isupper(static_cast<unsigned char>(type[i - 1])))))
      s += '_';
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // "conv2_d" -> keep digits with the word before: Keras writes "conv2d", "max_pooling2d".
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) continue;
    r += s[i];
  }
  return r;
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v), r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) r += ',';
    r += s[i];
  }
  return r;
}

std::string batch_shape_str(const Shape& s) {
  std::string r = "(None";
  for (size_t i = 0; i < s.size(); ++i) r += ", " + std::to_string(s[i]);
  return r + ")";
}

Json shape_json(const Shape& s) {
  Json a = Json::array();
  for (size_t i = 0; i < s.size(); ++i) a.push_back(s[i]);
  return a;
}

Shape per_sample(const Shape& batch_shape) {
  return Shape(batch_shape.data() + 1, batch_shape.size() - 1);
}

}  // namespace

// ---- History / CompileOptions ----
const std::vector<double>& History::operator[](const std::string& key) const {
  auto it = history.find(key);
  if (it == history.end()) {
    std::string known;
    for (const auto& [k, v] : history) known += (known.empty() ? "" : ", ") + k;
    throw ValueError("History: no entry '" + key + "' (have: " + known + ")");
  }
  return it->second;
}

CompileOptions& CompileOptions::optimizer(const std::string& name,
                                          const std::map<std::string, double>& options) {
  optimizer_name_ = name;
  optimizer_options_ = options;
  optimizer_.reset();
  return *this;
}
CompileOptions& CompileOptions::optimizer(std::shared_ptr<optim::Optimizer> opt) {
  EMBER_CHECK(opt != nullptr, ValueError, "compile: null optimizer");
  optimizer_name_ = train::optimizer_registry_name(*opt);
  optimizer_options_.clear();
  optimizer_ = std::move(opt);
  return *this;
}
CompileOptions& CompileOptions::loss(const std::string& name) {
  loss_name_ = name;
  loss_fn_ = nullptr;
  return *this;
}
CompileOptions& CompileOptions::loss(train::LossFn fn, const std::string& name) {
  loss_fn_ = std::move(fn);
  loss_name_ = name;
  return *this;
}
CompileOptions& CompileOptions::from_logits(bool v) {
  from_logits_ = v;
  return *this;
}
CompileOptions& CompileOptions::metrics(const std::vector<std::string>& names) {
  metric_names_ = names;
  return *this;
}
CompileOptions& CompileOptions::metric(train::MetricPtr m) {
  metric_objects_.push_back(std::move(m));
  return *this;
}

Json CompileOptions::to_json() const {
  Json j;
  Json opt;
  opt["name"] = optimizer_name_;
  if (optimizer_) {
    for (const auto& [k, v] : optimizer_->param_groups().at(0).options) opt[k] = v;
  } else {
    for (const auto& [k, v] : optimizer_options_) opt[k] = v;
  }
  j["optimizer"] = opt;
  j["loss"] = loss_name_;
  j["from_logits"] = from_logits_;
  Json m = Json::array();
  for (const auto& n : metric_names_) m.push_back(n);
  for (const auto& o : metric_objects_) m.push_back(o->name());
  j["metrics"] = m;
  return j;
}

CompileOptions CompileOptions::from_json(const Json& j) {
  EMBER_CHECK(j.is_object(), ValueError, "compile config: expected a JSON object, got ", j.dump());
  CompileOptions c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "optimizer") {
      if (v.is_string()) {
        c.optimizer(v.get<std::string>());
      } else {
        EMBER_CHECK(v.is_object() && v.contains("name") && v["name"].is_string(), ValueError,
                    "compile config.optimizer: expected a name or {\"name\": ..., options}, got ", v.dump());
        std::map<std::string, double> opts;
        for (auto o = v.begin(); o != v.end(); ++o) {
          if (o.key() == "name") continue;
          EMBER_CHECK(o.value().is_number() || o.value().is_boolean(), ValueError,
                      "compile config.optimizer.", o.key(), ": expected a number, got ", o.value().dump());
          opts[o.key()] =
              o.value().is_boolean() ? (o.value().get<bool>() ? 1.0 : 0.0) : o.value().get<double>();
        }
        c.optimizer(v["name"].get<std::string>(), opts);
      }
    } else if (k == "loss") {
      EMBER_CHECK(v.is_string(), ValueError, "compile config.loss: expected a string, got ", v.dump());
      c.loss(v.get<std::string>());
    } else if (k == "from_logits") {
      EMBER_CHECK(v.is_boolean(), ValueError, "compile config.from_logits: expected true/false, got ",
                  v.dump());
      c.from_logits(v.get<bool>());
    } else if (k == "metrics") {
      EMBER_CHECK(v.is_array(), ValueError, "compile config.metrics: expected a list of names, got ",
                  v.dump());
      std::vector<std::string> names;
      for (const Json& e : v) {
        EMBER_CHECK(e.is_string(), ValueError, "compile config.metrics: expected names, got ", e.dump());
        names.push_back(e.get<std::string>());
      }
      c.metrics(names);
    } else {
      throw ValueError("compile config: unknown field '" + k +
                       "' (known: optimizer, loss, from_logits, metrics)");
    }
  }
  EMBER_CHECK(!c.loss_name_.empty(), ValueError, "compile config: missing field 'loss'");
  return c;
}

// ---- Sequential ----
Sequential::Sequential(std::vector<LayerPtr> layers, std::string name) : name_(std::move(name)) {
  for (auto& l : layers) add(std::move(l));
}

void Sequential::add(LayerPtr layer) {
  EMBER_CHECK(layer != nullptr, ValueError, "Sequential.add: null layer");
  EMBER_CHECK(!built_, ValueError, "Sequential.add: the model is already built");
  if (layer->name.empty()) {
    std::string base = snake(layer->type() == "InputLayer" ? "InputLayer" : layer->type());
    std::set<std::string> taken;
    for (const auto& l : layers_) taken.insert(l->name);
    std::string n = base;
    for (int i = 1; taken.count(n); ++i) n = base + "_" + std::to_string(i);
    layer->name = n;
  }
  layers_.push_back(std::move(layer));
}

void Sequential::build(std::optional<Shape> input_shape) {
  if (built_) return;
  if (!input_shape) {
    for (const auto& l : layers_)
      if (l->input_shape) {
        input_shape = l->input_shape;
        break;
      }
  }
  EMBER_CHECK(input_shape.has_value(), ValueError, "Sequential '", name_,
              "': the input shape is unknown (add Input({...}) or give the first layer an input_shape)");
  EMBER_CHECK(!layers_.empty(), ValueError, "Sequential '", name_, "': no layers");
  input_shape_ = *input_shape;
  module_ = std::make_shared<nn::Sequential>();
  Shape s = input_shape_;
  for (const auto& l : layers_) s = l->build(s, *module_, nullptr);
  auto params = module_->parameters();
  if (!params.empty()) arena_ = std::make_unique<optim::ParameterArena>(params);
  built_ = true;
}

std::shared_ptr<nn::Sequential> Sequential::module() {
  build();
  return module_;
}

Shape Sequential::output_shape() const {
  EMBER_CHECK(built_, ValueError, "Sequential '", name_, "': not built yet");
  return layers_.back()->output_shape;
}

void Sequential::ensure_built(const Tensor& batch) {
  if (!built_) build(per_sample(batch.shape()));
  Shape got = per_sample(batch.shape());
  EMBER_CHECK(got == input_shape_, ShapeError, "Sequential '", name_, "': expected input ",
              batch_shape_str(input_shape_), ", got ", batch.shape());
}

void Sequential::ensure_built(const data::Dataset& ds) {
  EMBER_CHECK(ds.size() > 0, ValueError, "Sequential '", name_, "': empty data set");
  if (!built_) build(ds.get(0).x.shape());
  EMBER_CHECK(ds.get(0).x.shape() == input_shape_, ShapeError, "Sequential '", name_,
              "': expected samples of ", "shape ", batch_shape_str(input_shape_), " without the batch, got ",
              ds.get(0).x.shape());
}

void Sequential::compile(const CompileOptions& options) {
  build();
  CompileOptions c = options;
  EMBER_CHECK(c.loss_fn_ || !c.loss_name_.empty(), ValueError, "compile: no loss given");
  loss_ = c.loss_fn_ ? c.loss_fn_ : train::make_loss(c.loss_name_, c.from_logits_);
  optimizer_ = c.optimizer_
                   ? c.optimizer_
                   : train::make_optimizer(c.optimizer_name_, module_->parameters(), c.optimizer_options_);
  train_metrics_.clear();
  val_metrics_.clear();
  for (const auto& n : c.metric_names_) {
    train_metrics_.push_back(train::make_metric(n, c.loss_name_, c.from_logits_));
    val_metrics_.push_back(train::make_metric(n, c.loss_name_, c.from_logits_));
  }
  for (const auto& m : c.metric_objects_) {  // user objects serve both phases (reset in between)
    train_metrics_.push_back(m);
    val_metrics_.push_back(m);
  }
  compile_ = std::move(c);
}

void Sequential::compile(const std::string& optimizer, const std::string& loss,
                         const std::vector<std::string>& metrics, bool from_logits) {
  compile(CompileOptions().optimizer(optimizer).loss(loss).metrics(metrics).from_logits(from_logits));
}

optim::Optimizer& Sequential::optimizer() {
  check_compiled("optimizer");
  return *optimizer_;
}

void Sequential::check_compiled(const char* what) const {
  EMBER_CHECK(optimizer_ != nullptr && loss_, ValueError, "Sequential '", name_, "'.", what,
              ": call compile() first");
}

std::vector<train::Metric*> Sequential::metric_ptrs(bool validation) {
  std::vector<train::Metric*> r;
  for (auto& m : validation ? val_metrics_ : train_metrics_) r.push_back(m.get());
  return r;
}

History Sequential::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  EMBER_CHECK(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), ShapeError, "Sequential.fit: x ",
              x.shape(), " and y ", y.shape(), " must have the same number of rows");
  return fit(data::tensor_dataset(contiguous(x), contiguous(y)), options);
}

History Sequential::fit(data::DatasetPtr train, const FitOptions& o) {
  EMBER_CHECK(train != nullptr, ValueError, "Sequential.fit: null data set");
  EMBER_CHECK(o.epochs_ >= 0 && o.batch_size_ >= 1, ValueError, "Sequential.fit: epochs must be >= 0 and ",
              "batch_size >= 1, got ", o.epochs_, " and ", o.batch_size_);
  EMBER_CHECK(o.validation_split_ >= 0 && o.validation_split_ < 1, ValueError,
              "Sequential.fit: validation_split must be in [0, 1), got ", o.validation_split_);
  ensure_built(*train);
  check_compiled("fit");
  data::DatasetPtr val = o.validation_;
  if (o.validation_split_ > 0) {
    int64_t n = train->size(), nv = static_cast<int64_t>(std::llround(o.validation_split_ * n));
    EMBER_CHECK(nv >= 1 && nv < n, ValueError, "Sequential.fit: validation_split ", o.validation_split_,
                " of ", n, " examples leaves an empty part");
    std::vector<int64_t> ti(n - nv), vi(nv);
    for (int64_t i = 0; i < n - nv; ++i) ti[i] = i;
    for (int64_t i = 0; i < nv; ++i) vi[i] = n - nv + i;
    val = std::make_shared<data::Subset>(train, vi);
    train = std::make_shared<data::Subset>(train, ti);
  }
  data::DataLoader loader(train, data::DataLoaderOptions()
                                     .batch_size(o.batch_size_)
                                     .shuffle(o.shuffle_)
                                     .seed(o.seed_)
                                     .num_workers(o.num_workers_));
  std::unique_ptr<data::DataLoader> val_loader;
  if (val) {
    ensure_built(*val);
    val_loader = std::make_unique<data::DataLoader>(
        val, data::DataLoaderOptions().batch_size(o.batch_size_).num_workers(o.num_workers_));
  }
  std::vector<CallbackPtr> cbs;
  if (o.verbose_ > 0) cbs.push_back(std::make_shared<ProgressBar>());
  cbs.insert(cbs.end(), o.callbacks_.begin(), o.callbacks_.end());
  int64_t first = epoch_, end = epoch_ + o.epochs_;
  stop_training = false;
  for (auto& cb : cbs) {
    cb->set_model(this);
    cb->on_train_begin(first, end);
  }
  auto train_ms = metric_ptrs(false), val_ms = metric_ptrs(true);
  train::BatchCallback on_batch;
  if (!cbs.empty())
    on_batch = [&cbs](const train::BatchInfo& info) {
      for (auto& cb : cbs) cb->on_batch_end(info);
    };
  History h;
  for (int64_t e = first; e < end && !stop_training; ++e) {
    for (auto& cb : cbs) cb->on_epoch_begin(e);
    loader.set_epoch(e);
    train::EpochResult r = train::train_epoch(*module_, *optimizer_, loss_, loader, train_ms, on_batch);
    Logs logs;
    logs["loss"] = r.loss;
    for (const auto& [k, v] : r.metrics) logs[k] = v;
    if (val_loader) {
      train::EpochResult v = train::evaluate(*module_, loss_, *val_loader, val_ms);
      logs["val_loss"] = v.loss;
      for (const auto& [k, val_v] : v.metrics) logs["val_" + k] = val_v;
    }
    epoch_ = e + 1;
    for (auto& cb : cbs) cb->on_epoch_end(e, logs);
    h.epoch.push_back(e);
    for (const auto& [k, v] : logs) h.history[k].push_back(v);
  }
  for (auto& cb : cbs) cb->on_train_end();
  return h;
}

Logs Sequential::evaluate(const Tensor& x, const Tensor& y, int64_t batch_size) {
  EMBER_CHECK(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), ShapeError, "Sequential.evaluate: x ",
              x.shape(), " and y ", y.shape(), " must have the same number of rows");
  return evaluate(data::tensor_dataset(contiguous(x), contiguous(y)), batch_size);
}

Logs Sequential::evaluate(data::DatasetPtr ds, int64_t batch_size) {
  ensure_built(*ds);
  check_compiled("evaluate");
  data::DataLoader loader(ds, data::DataLoaderOptions().batch_size(batch_size).num_workers(0));
  train::EpochResult r = train::evaluate(*module_, loss_, loader, metric_ptrs(true));
  Logs logs{{"loss", r.loss}};
  for (const auto& [k, v] : r.metrics) logs[k] = v;
  return logs;
}

Tensor Sequential::predict(const Tensor& x, int64_t batch_size) {
  EMBER_CHECK(batch_size >= 1, ValueError, "Sequential.predict: batch_size must be >= 1");
  ensure_built(x);
  bool was = module_->is_training();
  module_->eval();
  NoGradGuard no_grad;
  int64_t n = x.size(0);
  Tensor out;
  try {
    for (int64_t i = 0; i < n; i += batch_size) {
      int64_t e = std::min(n, i + batch_size);
      Tensor y = module_->forward(slice(x, 0, i, e));
      if (!out.defined()) {
        Shape s = y.shape();
        s[0] = n;
        out = empty(s, y.dtype());
      }
      copy_into(slice(out, 0, i, e), y);
    }
  } catch (...) {
    module_->train(was);
    throw;
  }
  module_->train(was);
  return out;
}

int64_t Sequential::count_params() const {
  EMBER_CHECK(built_, ValueError, "Sequential '", name_, "': not built yet");
  int64_t n = 0;
  for (const auto& [k, t] : module_->state_dict())
    if (is_floating(t.dtype())) n += t.numel();
  return n;
}

std::string Sequential::summary_string(int line_length) const {
  EMBER_CHECK(built_, ValueError, "Sequential '", name_,
              "'.summary: the model is not built (give an input shape or call build())");
  const int c1 = line_length * 45 / 100, c2 = line_length * 40 / 100;
  std::ostringstream os;
  auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
    std::string line = " " + a;
    line.resize(std::max<size_t>(line.size() + 1, c1), ' ');
    line += b;
    line.resize(std::max<size_t>(line.size() + 1, c1 + c2), ' ');
    line += c;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  };
  std::string under(line_length, '_'), dbl(line_length, '=');
  os << "Model: \"" << name_ << "\"\n" << under << "\n";
  row("Layer (type)", "Output Shape", "Param #");
  os << dbl << "\n";
  int64_t total = 0, trainable = 0;
  bool first = true;
  for (const auto& l : layers_) {
    if (l->type() == "InputLayer") continue;
    int64_t n = 0;
    for (int64_t i : l->module_indices) {
      auto m = (*module_)[i];
      for (const auto& [k, t] : m->named_parameters()) {
        n += t.numel();
        if (t.requires_grad()) trainable += t.numel();
      }
      for (const auto& [k, t] : m->named_buffers())
        if (is_floating(t.dtype())) n += t.numel();
    }
    total += n;
    if (!first) os << std::string(line_length, ' ') << "\n";
    first = false;
    row(l->name + " (" + l->type() + ")", batch_shape_str(l->output_shape), std::to_string(n));
  }
  os << dbl << "\n";
  os << "Total params: " << with_commas(total) << "\n";
  os << "Trainable params: " << with_commas(trainable) << "\n";
  os << "Non-trainable params: " << with_commas(total - trainable) << "\n";
  os << under << "\n";
  return os.str();
}

void Sequential::summary(std::ostream& os) const {
  os << summary_string();
}

Json Sequential::to_json() const {
  Json j;
  j["class_name"] = "Sequential";
  j["name"] = name_;
  if (built_) j["input_shape"] = shape_json(input_shape_);
  Json ls = Json::array();
  for (const auto& l : layers_) ls.push_back(l->to_json());
  j["layers"] = ls;
  return j;
}

std::string Sequential::to_json_string(int indent) const {
  return to_json().dump(indent);
}

void Sequential::save_weights(const std::string& path) {
  build();
  io::NamedTensors ts;
  for (const auto& [k, t] : module_->state_dict()) ts.emplace_back(k, t);
  io::save_safetensors(path, ts, {{"format", "pt"}});
}

void Sequential::load_weights(const std::string& path) {
  build();
  io::SafetensorsFile f = io::load_safetensors(path);
  nn::StateDict sd;
  for (const auto& [k, t] : f.tensors)
    if (k.rfind("optimizer.", 0) != 0) sd.insert(k, t);
  try {
    module_->load_state_dict(sd);
  } catch (const ShapeError& e) {
    throw ShapeError(path + ": " + e.what());
  } catch (const ValueError& e) {
    throw ValueError(path + ": " + e.what());
  }
}

void Sequential::save(const std::string& path) {
  build();
  io::NamedTensors ts;
  for (const auto& [k, t] : module_->state_dict()) ts.emplace_back(k, t);
  std::map<std::string, std::string> meta;
  meta["format"] = kFormat;
  meta["architecture"] = to_json().dump();
  meta["epoch"] = std::to_string(epoch_);
  if (optimizer_) {
    meta["compile"] = compile_.to_json().dump();
    optim::OptimizerStateDict sd = optimizer_->state_dict();
    for (const auto& [k, t] : sd.tensors) ts.emplace_back("optimizer." + k, t);
    Json scalars = Json::object();
    for (const auto& [k, v] : sd.scalars) scalars[k] = v;
    meta["optimizer"] = scalars.dump();
  }
  io::save_safetensors(path, ts, meta);
}

std::shared_ptr<Sequential> model_from_json(const Json& j) {
  EMBER_CHECK(j.is_object(), ValueError, "model config: expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    EMBER_CHECK(
        it.key() == "class_name" || it.key() == "name" || it.key() == "layers" || it.key() == "input_shape",
        ValueError, "model config: unknown field '", it.key(), "' (known: class_name, name, input_shape, ",
        "layers)");
  if (j.contains("class_name"))
    EMBER_CHECK(j["class_name"] == "Sequential", ValueError,
                "model config.class_name: only \"Sequential\" is ", "supported, got ",
                j["class_name"].dump());
  EMBER_CHECK(j.contains("layers") && j["layers"].is_array(), ValueError,
              "model config: missing field 'layers' (a list of layer configs)");
  std::string name = "sequential";
  if (j.contains("name")) {
    EMBER_CHECK(j["name"].is_string(), ValueError, "model config.name: expected a string");
    name = j["name"].get<std::string>();
  }
  std::vector<LayerPtr> layers;
  size_t i = 0;
  for (const Json& lj : j["layers"]) {
    try {
      layers.push_back(layer_from_json(lj));
    } catch (const ValueError& e) {
      throw ValueError("model config.layers[" + std::to_string(i) + "]: " + e.what());
    }
    ++i;
  }
  auto m = std::make_shared<Sequential>(layers, name);
  if (j.contains("input_shape")) {
    std::vector<int64_t> d;
    EMBER_CHECK(j["input_shape"].is_array(), ValueError,
                "model config.input_shape: expected a list of integers");
    for (const Json& e : j["input_shape"]) {
      EMBER_CHECK(e.is_number_integer(), ValueError, "model config.input_shape: expected a list of integers");
      d.push_back(e.get<int64_t>());
    }
    m->build(Shape(d));
  } else {
    bool known = false;
    for (const auto& l : m->layers()) known = known || l->input_shape.has_value();
    if (known) m->build();
  }
  return m;
}

std::shared_ptr<Sequential> model_from_json(const std::string& text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    throw ValueError(std::string("model config: invalid JSON: ") + e.what());
  }
  return model_from_json(j);
}

std::shared_ptr<Sequential> load_model(const std::string& path) {
  io::SafetensorsFile f = io::load_safetensors(path);
  auto meta = [&](const char* key) -> const std::string* {
    auto it = f.metadata.find(key);
    return it == f.metadata.end() ? nullptr : &it->second;
  };
  const std::string* format = meta("format");
  EMBER_CHECK(format && *format == kFormat, IOError, path,
              ": not an Ember model file (no __metadata__ format \"", kFormat,
              "\"; weights-only files load with load_weights)");
  const std::string* arch = meta("architecture");
  EMBER_CHECK(arch != nullptr, IOError, path, ": model file without an architecture");
  std::shared_ptr<Sequential> m;
  Json compile_json;
  Json scalars;
  int64_t epoch = 0;
  try {
    m = model_from_json(*arch);
    if (const std::string* c = meta("compile")) compile_json = Json::parse(*c);
    if (const std::string* s = meta("optimizer")) scalars = Json::parse(*s);
    if (const std::string* e = meta("epoch")) epoch = std::stoll(*e);
  } catch (const Json::exception& e) {
    throw IOError(path + ": invalid metadata: " + e.what());
  } catch (const std::invalid_argument&) {
    throw IOError(path + ": invalid epoch in metadata");
  } catch (const ValueError& e) {
    throw IOError(path + ": " + e.what());
  }
  m->build();
  nn::StateDict sd;
  optim::OptimizerStateDict osd;
  for (const auto& [k, t] : f.tensors) {
    if (k.rfind("optimizer.", 0) == 0)
      osd.tensors[k.substr(10)] = t;
    else
      sd.insert(k, t);
  }
  try {
    m->module_->load_state_dict(sd);
  } catch (const Error& e) {
    throw IOError(path + ": " + e.what());
  }
  m->epoch_ = epoch;
  if (!compile_json.is_null()) {
    CompileOptions c = CompileOptions::from_json(compile_json);
    if (c.loss_name_ != "custom") {
      m->compile(c);
      if (scalars.is_object()) {
        for (auto it = scalars.begin(); it != scalars.end(); ++it)
          osd.scalars[it.key()] = it.value().get<double>();
        try {
          m->optimizer_->load_state_dict(osd);
        } catch (const Error& e) {
          throw IOError(path + ": optimizer state: " + e.what());
        }
      }
    }
  }
  return m;
}

NamedDataset load_dataset(const std::string& name) {
  data::ImageClassification ic;
  if (name == "fashion_mnist" || name == "fashion-mnist")
    ic = data::load_fashion_mnist();
  else if (name == "mnist")
    ic = data::load_mnist();
  else
    throw ValueError("load_dataset: unknown data set '" + name + "' (known: fashion_mnist, mnist)");
  return {ic.train, ic.test, ic.class_names};
}

}  // namespace ember::keras
