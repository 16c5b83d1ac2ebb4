#include "ember/train/layers.h"

#include <nlohmann/json.hpp>
#include <set>

#include "ember/core/error.h"
#include "ember/nn/nn.h"
#include "ember/ops/conv.h"
#include "ember/ops/ops.h"

namespace ember::keras {
namespace {

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

Json shape_json(const Shape& s) {
  Json a = Json::array();
  for (size_t i = 0; i < s.size(); ++i) a.push_back(s[i]);
  return a;
}

const std::set<std::string>& activation_names() {
  static const std::set<std::string> names{"",        "linear",      "relu", "sigmoid",   "tanh",
                                           "softmax", "log_softmax", "gelu", "leaky_relu"};
  return names;
}

void check_activation(const std::string& layer, const std::string& a) {
  EMBER_CHECK(activation_names().count(a), ValueError, layer, ": unknown activation '", a,
              "' (known: relu, sigmoid, tanh, softmax, log_softmax, gelu, leaky_relu, linear)");
}

// Appends the activation module (if any) and records its index.
void add_activation(const std::string& a, nn::Sequential& seq, std::vector<int64_t>& idx) {
  if (auto m = activation_module(a)) {
    idx.push_back(static_cast<int64_t>(seq.size()));
    seq.push_back(m);
  }
}

void add(nn::ModulePtr m, nn::Sequential& seq, std::vector<int64_t>& idx) {
  idx.push_back(static_cast<int64_t>(seq.size()));
  seq.push_back(std::move(m));
}

// Reads a layer's JSON fields by name, checking types; unknown fields are reported by finish().
class Fields {
 public:
  Fields(const Json& j, std::string type) : j_(j), type_(std::move(type)) {
    EMBER_CHECK(j.is_object(), ValueError, "layer config: expected a JSON object, got ", j.dump());
  }
  bool has(const char* k) {
    used_.insert(k);
    return j_.contains(k) && !j_[k].is_null();
  }
  const Json& req(const char* k) {
    EMBER_CHECK(has(k), ValueError, type_, ": missing field '", k, "'");
    return j_[k];
  }
  int64_t integer(const char* k) {
    const Json& v = req(k);
    EMBER_CHECK(v.is_number_integer(), ValueError, type_, ".", k, ": expected an integer, got ", v.dump());
    return v.get<int64_t>();
  }
  int64_t integer(const char* k, int64_t def) { return has(k) ? integer(k) : def; }
  double number(const char* k, double def) {
    if (!has(k)) return def;
    EMBER_CHECK(j_[k].is_number(), ValueError, type_, ".", k, ": expected a number, got ", j_[k].dump());
    return j_[k].get<double>();
  }
  bool boolean(const char* k, bool def) {
    if (!has(k)) return def;
    EMBER_CHECK(j_[k].is_boolean(), ValueError, type_, ".", k, ": expected true/false, got ", j_[k].dump());
    return j_[k].get<bool>();
  }
  std::string string(const char* k, const std::string& def) {
    if (!has(k)) return def;
    EMBER_CHECK(j_[k].is_string(), ValueError, type_, ".", k, ": expected a string, got ", j_[k].dump());
    return j_[k].get<std::string>();
  }
  Shape shape(const char* k) {
    const Json& v = req(k);
    EMBER_CHECK(v.is_array(), ValueError, type_, ".", k, ": expected a list of integers, got ", v.dump());
    std::vector<int64_t> d;
    for (const Json& e : v) {
      EMBER_CHECK(e.is_number_integer() && e.get<int64_t>() > 0, ValueError, type_, ".", k,
                  ": expected positive integers, got ", v.dump());
      d.push_back(e.get<int64_t>());
    }
    return Shape(d);
  }
  // An integer n (meaning {n, n}) or a pair [a, b].
  std::array<int64_t, 2> pair(const char* k, std::array<int64_t, 2> def) {
    if (!has(k)) return def;
    const Json& v = j_[k];
    if (v.is_number_integer()) return {v.get<int64_t>(), v.get<int64_t>()};
    EMBER_CHECK(v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer(),
                ValueError, type_, ".", k, ": expected an integer or [a, b], got ", v.dump());
    return {v[0].get<int64_t>(), v[1].get<int64_t>()};
  }
  void finish() {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      EMBER_CHECK(used_.count(it.key()), ValueError, type_, ": unknown field '", it.key(), "'");
  }

 private:
  const Json& j_;
  std::string type_;
  std::set<std::string> used_{"type", "name", "input_shape"};
};

// ---------------------------------------------------------------------------------------------------------
class InputLayer : public Layer {
 public:
  std::string type() const override { return "InputLayer"; }

 protected:
  void config(Json&) const override {}
  Shape build_impl(const Shape& in, nn::Sequential&, Generator*) override { return in; }
};

class DenseLayer : public Layer {
 public:
  DenseLayer(int64_t units, std::string act, bool bias) : units_(units), act_(std::move(act)), bias_(bias) {
    EMBER_CHECK(units > 0, ValueError, "Dense: units must be positive, got ", units);
    check_activation("Dense", act_);
  }
  std::string type() const override { return "Dense"; }

 protected:
  void config(Json& j) const override {
    j["units"] = units_;
    j["activation"] = act_.empty() ? "linear" : act_;
    j["use_bias"] = bias_;
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
    EMBER_CHECK(!in.empty(), ShapeError, describe(), ": needs an input with a feature axis, got ",
                shape_str(in));
    add(std::make_shared<nn::Linear>(nn::LinearOptions(in[in.size() - 1], units_).bias(bias_), gen), seq,
        module_indices);
    add_activation(act_, seq, module_indices);
    Shape out = in;
    out[out.size() - 1] = units_;
    return out;
  }

 private:
  int64_t units_;
  std::string act_;
  bool bias_;
};

class FlattenLayer : public Layer {
 public:
  std::string type() const override { return "Flatten"; }

 protected:
  void config(Json&) const override {}
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator*) override {
    add(std::make_shared<nn::Flatten>(), seq, module_indices);
    return Shape{in.numel()};
  }
};

class DropoutLayer : public Layer {
 public:
  explicit DropoutLayer(double rate) : rate_(rate) {
    EMBER_CHECK(rate >= 0 && rate < 1, ValueError, "Dropout: rate must be in [0, 1), got ", rate);
  }
  std::string type() const override { return "Dropout"; }

 protected:
  void config(Json& j) const override { j["rate"] = rate_; }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
    add(std::make_shared<nn::Dropout>(rate_, gen), seq, module_indices);
    return in;
  }

 private:
  double rate_;
};

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(std::string act) : act_(std::move(act)) { check_activation("Activation", act_); }
  std::string type() const override { return "Activation"; }

 protected:
  void config(Json& j) const override { j["activation"] = act_.empty() ? "linear" : act_; }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator*) override {
    add_activation(act_, seq, module_indices);
    return in;
  }

 private:
  std::string act_;
};

[[maybe_unused]] int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t pad) {
  return (in + 2 * pad - k) / s + 1;
}

class Conv2DLayer : public Layer {
 public:
  Conv2DLayer(int64_t filters, std::array<int64_t, 2> k, std::string act, std::array<int64_t, 2> s,
              std::string padding, bool bias)
      : filters_(filters), k_(k), act_(std::move(act)), s_(s), padding_(std::move(padding)), bias_(bias) {
    EMBER_CHECK(filters > 0 && k[0] > 0 && k[1] > 0 && s[0] > 0 && s[1] > 0, ValueError,
                "Conv2D: filters, kernel_size and strides must be positive");
    EMBER_CHECK(padding_ == "valid" || padding_ == "same", ValueError,
                "Conv2D.padding: expected \"valid\" or ", "\"same\", got \"", padding_, "\"");
    check_activation("Conv2D", act_);
  }
  std::string type() const override { return "Conv2D"; }

 protected:
  void config(Json& j) const override {
    j["filters"] = filters_;
    j["kernel_size"] = {k_[0], k_[1]};
    j["strides"] = {s_[0], s_[1]};
    j["padding"] = padding_;
    j["activation"] = act_.empty() ? "linear" : act_;
    j["use_bias"] = bias_;
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
#if __has_include("ember/nn/conv.h")
    EMBER_CHECK(in.size() == 3, ShapeError, describe(), ": expected a (C, H, W) input, got ", shape_str(in));
    int64_t ph = 0, pw = 0;
    if (padding_ == "same") {
      // Keras' "same": output ceil(in / stride); the total padding must split evenly (no asymmetric pads).
      std::array<int64_t, 2> tot{};
      for (int d = 0; d < 2; ++d) {
        int64_t out = (in[1 + d] + s_[d] - 1) / s_[d];
        tot[d] = std::max<int64_t>((out - 1) * s_[d] + k_[d] - in[1 + d], 0);
        EMBER_CHECK(tot[d] % 2 == 0, ValueError, describe(),
                    ": padding=\"same\" would need asymmetric padding here (use an odd kernel or stride 1)");
      }
      ph = tot[0] / 2, pw = tot[1] / 2;
    }
    int64_t oh = conv_out(in[1], k_[0], s_[0], ph), ow = conv_out(in[2], k_[1], s_[1], pw);
    EMBER_CHECK(oh > 0 && ow > 0, ShapeError, describe(), ": kernel ", k_[0], "x", k_[1],
                " larger than input ", shape_str(in));
    auto opts = nn::Conv2dOptions(in[0], filters_, {k_[0], k_[1]}).stride({s_[0], s_[1]}).bias(bias_);
    opts.padding(Padding2d(ph, pw));
    add(std::make_shared<nn::Conv2d>(opts, gen), seq, module_indices);
    add_activation(act_, seq, module_indices);
    return Shape{filters_, oh, ow};
#else
    (void)in, (void)seq, (void)gen;
    throw ValueError("Conv2D: this build has no nn::Conv2d (ember/nn/conv.h)");
#endif
  }

 private:
  int64_t filters_;
  std::array<int64_t, 2> k_;
  std::string act_;
  std::array<int64_t, 2> s_;
  std::string padding_;
  bool bias_;
};

class Pool2DLayer : public Layer {
 public:
  Pool2DLayer(bool max, std::array<int64_t, 2> k, std::array<int64_t, 2> s) : max_(max), k_(k), s_(s) {
    if (s_[0] == 0) s_ = k_;
    EMBER_CHECK(k_[0] > 0 && k_[1] > 0 && s_[0] > 0 && s_[1] > 0, ValueError, type(),
                ": pool_size and strides must be positive");
  }
  std::string type() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }

 protected:
  void config(Json& j) const override {
    j["pool_size"] = {k_[0], k_[1]};
    j["strides"] = {s_[0], s_[1]};
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator*) override {
#if __has_include("ember/nn/pooling.h")
    EMBER_CHECK(in.size() == 3 && in[1] >= k_[0] && in[2] >= k_[1], ShapeError, describe(),
                ": expected a (C, H, W) input at least as large as the pool, got ", shape_str(in));
    if (max_)
      add(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions({k_[0], k_[1]}).stride({s_[0], s_[1]})), seq,
          module_indices);
    else
      add(std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions({k_[0], k_[1]}).stride({s_[0], s_[1]})), seq,
          module_indices);
    return Shape{in[0], conv_out(in[1], k_[0], s_[0], 0), conv_out(in[2], k_[1], s_[1], 0)};
#else
    (void)in, (void)seq;
    throw ValueError(type() + ": this build has no nn pooling modules (ember/nn/pooling.h)");
#endif
  }

 private:
  bool max_;
  std::array<int64_t, 2> k_, s_;
};

class GlobalPoolLayer : public Layer {
 public:
  explicit GlobalPoolLayer(bool two_d) : two_d_(two_d) {}
  std::string type() const override { return two_d_ ? "GlobalAveragePooling2D" : "GlobalAveragePooling1D"; }

 protected:
  void config(Json&) const override {}
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator*) override {
    if (two_d_) {
      EMBER_CHECK(in.size() == 3, ShapeError, describe(), ": expected a (C, H, W) input, got ",
                  shape_str(in));
      add(std::make_shared<nn::GlobalAvgPool2d>(), seq, module_indices);
      return Shape{in[0]};
    }
    EMBER_CHECK(in.size() == 2, ShapeError, describe(), ": expected a (T, C) input, got ", shape_str(in));
    add(std::make_shared<nn::GlobalAvgPool1d>(), seq, module_indices);
    return Shape{in[1]};
  }

 private:
  bool two_d_;
};

class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(double momentum, double eps) : momentum_(momentum), eps_(eps) {
    EMBER_CHECK(momentum >= 0 && momentum <= 1 && eps > 0, ValueError,
                "BatchNormalization: momentum must be in [0, 1] and epsilon positive");
  }
  std::string type() const override { return "BatchNormalization"; }

 protected:
  void config(Json& j) const override {
    j["momentum"] = momentum_;
    j["epsilon"] = eps_;
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator*) override {
#if __has_include("ember/nn/batch_norm.h")
    EMBER_CHECK(in.size() == 1 || in.size() == 3, ShapeError, describe(), ": expected (F) or (C, H, W), got ",
                shape_str(in));
    auto opts = nn::BatchNormOptions(in[0]).eps(eps_).momentum(1.0 - momentum_);
    if (in.size() == 3)
      add(std::make_shared<nn::BatchNorm2d>(opts), seq, module_indices);
    else
      add(std::make_shared<nn::BatchNorm1d>(opts), seq, module_indices);
    return in;
#else
    (void)in, (void)seq;
    throw ValueError("BatchNormalization: this build has no nn batch norm (ember/nn/batch_norm.h)");
#endif
  }

 private:
  double momentum_, eps_;
};

class EmbeddingLayer : public Layer {
 public:
  EmbeddingLayer(int64_t in, int64_t out) : in_(in), out_(out) {
    EMBER_CHECK(in > 0 && out > 0, ValueError, "Embedding: input_dim and output_dim must be positive");
  }
  std::string type() const override { return "Embedding"; }

 protected:
  void config(Json& j) const override {
    j["input_dim"] = in_;
    j["output_dim"] = out_;
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
#if __has_include("ember/nn/embedding.h")
    add(std::make_shared<nn::Embedding>(nn::EmbeddingOptions(in_, out_), gen), seq, module_indices);
    Shape out = in;
    out.push_back(out_);
    return out;
#else
    (void)in, (void)seq, (void)gen;
    throw ValueError("Embedding: this build has no nn::Embedding (ember/nn/embedding.h)");
#endif
  }

 private:
  int64_t in_, out_;
};

class RecurrentLayer : public Layer {
 public:
  RecurrentLayer(std::string kind, int64_t units, bool seqs)
      : kind_(std::move(kind)), units_(units), seqs_(seqs) {
    EMBER_CHECK(units > 0, ValueError, kind_, ": units must be positive, got ", units);
  }
  std::string type() const override { return kind_; }
  bool bidirectional = false;

 protected:
  void config(Json& j) const override {
    j["units"] = units_;
    j["return_sequences"] = seqs_;
  }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
#if __has_include("ember/nn/rnn.h")
    EMBER_CHECK(in.size() == 2, ShapeError, describe(), ": expected a (T, C) input, got ", shape_str(in));
    nn::ModulePtr m;
    if (kind_ == "LSTM")
      m = std::make_shared<nn::LSTM>(nn::LSTMOptions(in[1], units_).bidirectional(bidirectional), gen);
    else if (kind_ == "GRU")
      m = std::make_shared<nn::GRU>(nn::GRUOptions(in[1], units_).bidirectional(bidirectional), gen);
    else
      m = std::make_shared<nn::RNN>(nn::RNNOptions(in[1], units_).bidirectional(bidirectional), gen);
    add(m, seq, module_indices);
    int64_t d = bidirectional ? 2 : 1;
    if (seqs_) return Shape{in[0], d * units_};
    // Keras' last output: the forward direction's last step and the reverse direction's first step.
    int64_t h = units_;
    bool bi = bidirectional;
    add(std::make_shared<nn::Functional>(
            [h, bi](const Tensor& y) {
              int64_t t = y.size(1);
              Tensor fwd = select(slice(y, 2, 0, h), 1, t - 1);
              if (!bi) return fwd;
              return concat({fwd, select(slice(y, 2, h, 2 * h), 1, 0)}, 1);
            },
            "LastTimeStep"),
        seq, module_indices);
    return Shape{d * units_};
#else
    (void)in, (void)seq, (void)gen;
    throw ValueError(kind_ + ": this build has no nn recurrent modules (ember/nn/rnn.h)");
#endif
  }

 private:
  std::string kind_;
  int64_t units_;
  bool seqs_;
};

class BidirectionalLayer : public Layer {
 public:
  explicit BidirectionalLayer(std::shared_ptr<RecurrentLayer> inner) : inner_(std::move(inner)) {
    inner_->bidirectional = true;
  }
  std::string type() const override { return "Bidirectional"; }

 protected:
  void config(Json& j) const override { j["layer"] = inner_->to_json(); }
  Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) override {
    inner_->name = name;
    Shape out = inner_->build(in, seq, gen);
    module_indices = inner_->module_indices;
    return out;
  }

 private:
  std::shared_ptr<RecurrentLayer> inner_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------
Json Layer::to_json() const {
  Json j;
  j["type"] = type();
  if (!name.empty()) j["name"] = name;
  if (input_shape) j["input_shape"] = shape_json(*input_shape);
  config(j);
  return j;
}

Shape Layer::build(const Shape& in, nn::Sequential& seq, Generator* gen) {
  module_indices.clear();
  output_shape = build_impl(in, seq, gen);
  return output_shape;
}

std::string Layer::describe() const {
  return name.empty() ? type() : type() + " '" + name + "'";
}

nn::ModulePtr activation_module(const std::string& a) {
  if (a.empty() || a == "linear") return nullptr;
  if (a == "relu") return std::make_shared<nn::ReLU>();
  if (a == "sigmoid") return std::make_shared<nn::Sigmoid>();
  if (a == "tanh") return std::make_shared<nn::Tanh>();
  if (a == "softmax") return std::make_shared<nn::Softmax>(-1);
  if (a == "log_softmax") return std::make_shared<nn::LogSoftmax>(-1);
  if (a == "gelu") return std::make_shared<nn::GELU>();
  if (a == "leaky_relu") return std::make_shared<nn::LeakyReLU>(0.01);
  check_activation("activation", a);
  return nullptr;
}

LayerHandle Input(const Shape& shape) {
  auto l = std::make_shared<InputLayer>();
  l->input_shape = shape;
  return LayerHandle(l);
}
LayerHandle Dense(int64_t units, const std::string& activation, bool use_bias) {
  return LayerHandle(std::make_shared<DenseLayer>(units, activation, use_bias));
}
LayerHandle Flatten() {
  return LayerHandle(std::make_shared<FlattenLayer>());
}
LayerHandle Dropout(double rate) {
  return LayerHandle(std::make_shared<DropoutLayer>(rate));
}
LayerHandle Activation(const std::string& a) {
  return LayerHandle(std::make_shared<ActivationLayer>(a));
}
LayerHandle Conv2D(int64_t filters, std::array<int64_t, 2> kernel_size, const std::string& activation,
                   std::array<int64_t, 2> strides, const std::string& padding, bool use_bias) {
  return LayerHandle(
      std::make_shared<Conv2DLayer>(filters, kernel_size, activation, strides, padding, use_bias));
}
LayerHandle MaxPooling2D(std::array<int64_t, 2> pool_size, std::array<int64_t, 2> strides) {
  return LayerHandle(std::make_shared<Pool2DLayer>(true, pool_size, strides));
}
LayerHandle AveragePooling2D(std::array<int64_t, 2> pool_size, std::array<int64_t, 2> strides) {
  return LayerHandle(std::make_shared<Pool2DLayer>(false, pool_size, strides));
}
LayerHandle GlobalAveragePooling2D() {
  return LayerHandle(std::make_shared<GlobalPoolLayer>(true));
}
LayerHandle GlobalAveragePooling1D() {
  return LayerHandle(std::make_shared<GlobalPoolLayer>(false));
}
LayerHandle BatchNormalization(double momentum, double epsilon) {
  return LayerHandle(std::make_shared<BatchNormLayer>(momentum, epsilon));
}
LayerHandle Embedding(int64_t input_dim, int64_t output_dim) {
  return LayerHandle(std::make_shared<EmbeddingLayer>(input_dim, output_dim));
}
LayerHandle SimpleRNN(int64_t units, bool return_sequences) {
  return LayerHandle(std::make_shared<RecurrentLayer>("SimpleRNN", units, return_sequences));
}
LayerHandle LSTM(int64_t units, bool return_sequences) {
  return LayerHandle(std::make_shared<RecurrentLayer>("LSTM", units, return_sequences));
}
LayerHandle GRU(int64_t units, bool return_sequences) {
  return LayerHandle(std::make_shared<RecurrentLayer>("GRU", units, return_sequences));
}
LayerHandle Bidirectional(const LayerHandle& rnn) {
  auto r = std::dynamic_pointer_cast<RecurrentLayer>(rnn.ptr());
  EMBER_CHECK(r != nullptr, ValueError, "Bidirectional: wraps SimpleRNN, LSTM or GRU, got ", rnn->type());
  return LayerHandle(std::make_shared<BidirectionalLayer>(r));
}

LayerPtr layer_from_json(const Json& j) {
  EMBER_CHECK(j.is_object() && j.contains("type") && j["type"].is_string(), ValueError,
              "layer config: missing field 'type' in ", j.dump());
  std::string type = j["type"].get<std::string>();
  Fields f(j, type);
  LayerPtr l;
  if (type == "InputLayer" || type == "Input") {
    l = std::make_shared<InputLayer>();
  } else if (type == "Dense") {
    int64_t units = f.integer("units");
    l = std::make_shared<DenseLayer>(units, f.string("activation", ""), f.boolean("use_bias", true));
  } else if (type == "Flatten") {
    l = std::make_shared<FlattenLayer>();
  } else if (type == "Dropout") {
    EMBER_CHECK(f.has("rate"), ValueError, "Dropout: missing field 'rate'");
    l = std::make_shared<DropoutLayer>(f.number("rate", 0));
  } else if (type == "Activation") {
    EMBER_CHECK(f.has("activation"), ValueError, "Activation: missing field 'activation'");
    l = std::make_shared<ActivationLayer>(f.string("activation", ""));
  } else if (type == "Conv2D") {
    int64_t filters = f.integer("filters");
    EMBER_CHECK(f.has("kernel_size"), ValueError, "Conv2D: missing field 'kernel_size'");
    auto k = f.pair("kernel_size", {0, 0});
    l = std::make_shared<Conv2DLayer>(filters, k, f.string("activation", ""), f.pair("strides", {1, 1}),
                                      f.string("padding", "valid"), f.boolean("use_bias", true));
  } else if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    auto k = f.pair("pool_size", {2, 2});
    l = std::make_shared<Pool2DLayer>(type == "MaxPooling2D", k, f.pair("strides", {0, 0}));
  } else if (type == "GlobalAveragePooling2D" || type == "GlobalAveragePooling1D") {
    l = std::make_shared<GlobalPoolLayer>(type == "GlobalAveragePooling2D");
  } else if (type == "BatchNormalization") {
    double m = f.number("momentum", 0.99);
    l = std::make_shared<BatchNormLayer>(m, f.number("epsilon", 1e-3));
  } else if (type == "Embedding") {
    int64_t in = f.integer("input_dim");
    l = std::make_shared<EmbeddingLayer>(in, f.integer("output_dim"));
  } else if (type == "SimpleRNN" || type == "LSTM" || type == "GRU") {
    int64_t units = f.integer("units");
    l = std::make_shared<RecurrentLayer>(type, units, f.boolean("return_sequences", false));
  } else if (type == "Bidirectional") {
    LayerPtr inner = layer_from_json(f.req("layer"));
    l = Bidirectional(LayerHandle(inner)).ptr();
  } else {
    throw ValueError("layer config: unknown layer type '" + type +
                     "' (known: Input, Dense, Flatten, Dropout, Activation, Conv2D, MaxPooling2D, "
                     "AveragePooling2D, GlobalAveragePooling2D, GlobalAveragePooling1D, BatchNormalization, "
                     "Embedding, SimpleRNN, LSTM, GRU, Bidirectional)");
  }
  if (f.has("input_shape")) l->input_shape = f.shape("input_shape");
  l->name = f.string("name", "");
  f.finish();
  return l;
}

LayerPtr layer_from_json(const std::string& text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    throw ValueError(std::string("layer config: invalid JSON: ") + e.what());
  }
  return layer_from_json(j);
}

}  // namespace ember::keras
