// Keras-style layers for keras::Sequential. A layer is a description (units, activation, kernel size ...);
// once the input shape is known, build() creates the equivalent nn modules and appends them to an
// nn::Sequential (an activation becomes a separate module), so the built model's state_dict names are
// PyTorch's nn.Sequential names: Dense(64, "relu") then Dense(10) -> 0.weight, 0.bias, 2.weight, 2.bias.
//
//   using namespace ember::keras;
//   Sequential model({Input({1, 28, 28}),                       // (C, H, W): images are NCHW in Ember
//                     Conv2D(32, {3, 3}, "relu"), MaxPooling2D({2, 2}), Flatten(),
//                     Dense(128, "relu"), Dropout(0.2), Dense(10)});
//   auto l = Dense(64, "relu").input_shape({784});               // the input shape on the first layer
//   layer_from_json(R"({"type": "Dense", "units": 64, "activation": "relu"})");
//
// Shapes are per sample (no batch dimension). Keras' input_shape for images is given as (C, H, W), not
// Keras' default (H, W, C). Activations: "relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu",
// "leaky_relu", "linear"/"" (none).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ember/core/random.h"
#include "ember/core/shape.h"
#include "ember/nn/container.h"

namespace ember::keras {

using Json = nlohmann::json;

class Layer {
 public:
  virtual ~Layer() = default;
  // "Dense", "Conv2D", ...
  virtual std::string type() const = 0;
  // The layer's options as JSON: {"type": "Dense", "units": 64, "activation": "relu", ...} (plus "name" and
  // "input_shape" when set).
  Json to_json() const;
  // Creates the modules for per-sample input `in`, appends them to `seq`, returns the per-sample output
  // shape. Throws ShapeError naming the layer when `in` does not fit.
  Shape build(const Shape& in, nn::Sequential& seq, Generator* gen);

  std::optional<Shape> input_shape;  // set on the first layer (or via Input)
  std::string name;                  // "dense_1"; assigned by Sequential when empty
  // After build: the indices of this layer's modules in the nn::Sequential and the output shape.
  std::vector<int64_t> module_indices;
  Shape output_shape;

 protected:
  virtual void config(Json& j) const = 0;
  virtual Shape build_impl(const Shape& in, nn::Sequential& seq, Generator* gen) = 0;
  // "Dense 'dense_1'".
  std::string describe() const;
};
using LayerPtr = std::shared_ptr<Layer>;

// What the layer functions return: a handle with chainable setters, convertible to LayerPtr.
class LayerHandle {
 public:
  explicit LayerHandle(LayerPtr layer) : layer_(std::move(layer)) {}
  LayerHandle& input_shape(const Shape& s) {
    layer_->input_shape = s;
    return *this;
  }
  LayerHandle& name(const std::string& n) {
    layer_->name = n;
    return *this;
  }
  const LayerPtr& ptr() const { return layer_; }
  operator LayerPtr() const { return layer_; }  // NOLINT: implicit on purpose
  Layer* operator->() const { return layer_.get(); }

 private:
  LayerPtr layer_;
};

// ---- the layers (each a function returning a handle, like Keras' constructors) ----
LayerHandle Input(const Shape& shape);
LayerHandle Dense(int64_t units, const std::string& activation = "", bool use_bias = true);
LayerHandle Flatten();
LayerHandle Dropout(double rate);
LayerHandle Activation(const std::string& activation);
// padding "valid" or "same"; strides default 1. "same" with a stride needs symmetric padding (odd kernel).
LayerHandle Conv2D(int64_t filters, std::array<int64_t, 2> kernel_size, const std::string& activation = "",
                   std::array<int64_t, 2> strides = {1, 1}, const std::string& padding = "valid",
                   bool use_bias = true);
// strides default to pool_size (0 = same as pool_size); padding "valid" only.
LayerHandle MaxPooling2D(std::array<int64_t, 2> pool_size = {2, 2}, std::array<int64_t, 2> strides = {0, 0});
LayerHandle AveragePooling2D(std::array<int64_t, 2> pool_size = {2, 2},
                             std::array<int64_t, 2> strides = {0, 0});
// (C, H, W) -> (C).
LayerHandle GlobalAveragePooling2D();
// (T, C) -> (C).
LayerHandle GlobalAveragePooling1D();
// Normalises the channel axis (axis 0 of the per-sample shape: C of (C, H, W) or F of (F)). Keras'
// momentum m is PyTorch's 1 - m (the stored running statistics follow PyTorch).
LayerHandle BatchNormalization(double momentum = 0.99, double epsilon = 1e-3);
// Integer indices (T) -> (T, output_dim).
LayerHandle Embedding(int64_t input_dim, int64_t output_dim);
// (T, C) -> (units) or (T, units) with return_sequences.
LayerHandle SimpleRNN(int64_t units, bool return_sequences = false);
LayerHandle LSTM(int64_t units, bool return_sequences = false);
LayerHandle GRU(int64_t units, bool return_sequences = false);
// Wraps SimpleRNN/LSTM/GRU: both directions, outputs concatenated (2 * units).
LayerHandle Bidirectional(const LayerHandle& rnn);

// Rebuilds a layer from its to_json(). Unknown type, unknown or missing field, or a field of the wrong type
// -> ValueError naming the layer type and the field.
LayerPtr layer_from_json(const Json& j);
LayerPtr layer_from_json(const std::string& text);
// The activation module for a Keras name (nullptr for "linear"/""); ValueError on an unknown name.
nn::ModulePtr activation_module(const std::string& name);

}  // namespace ember::keras
