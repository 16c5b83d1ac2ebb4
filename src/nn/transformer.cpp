#include "ember/nn/transformer.h"

#include <cmath>
#include <sstream>

#include "ember/nn/init.h"
#include "ember/ops/ops.h"

namespace ember::nn {

namespace {

void check_layer_options(const TransformerEncoderLayerOptions& o, const char* who) {
  EMBER_CHECK(o.activation() == "relu" || o.activation() == "gelu", ValueError, who,
              ": activation must be \"relu\" or \"gelu\", got \"", o.activation(), "\"");
  EMBER_CHECK(o.dim_feedforward() > 0, ValueError, who, ": dim_feedforward must be positive, got ",
              o.dim_feedforward());
}

Tensor activate(const Tensor& x, const std::string& name) {
  return name == "gelu" ? gelu(x) : relu(x);
}

// Dropout with p = 0 is the identity: skip the module (ember::dropout copies its input in training mode).
Tensor drop(Dropout& d, const Tensor& x) {
  return d.p() > 0.0 ? d.forward(x) : x;
}

std::string layer_repr(const TransformerEncoderLayerOptions& o) {
  std::ostringstream os;
  os << "d_model=" << o.d_model() << ", nhead=" << o.nhead() << ", dim_feedforward=" << o.dim_feedforward()
     << ", dropout=" << o.dropout() << ", activation=" << o.activation()
     << ", norm_first=" << (o.norm_first() ? "true" : "false");
  return os.str();
}

MultiheadAttentionOptions mha_options(const TransformerEncoderLayerOptions& o) {
  return MultiheadAttentionOptions(o.d_model(), o.nhead()).dropout(o.dropout()).dtype(o.dtype());
}

LayerNormOptions norm_options(const TransformerEncoderLayerOptions& o) {
  return LayerNormOptions({o.d_model()}).eps(o.layer_norm_eps()).dtype(o.dtype());
}

// Copies the first layer's weights into the others (PyTorch's stacks deep-copy one layer).
void copy_first_layer(ModuleList& layers) {
  for (size_t i = 1; i < layers.size(); ++i)
    layers[static_cast<int64_t>(i)]->load_state_dict(layers[0]->state_dict());
}

}  // namespace

// ---- encoder layer ----

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& o, Generator* gen)
    : Module("TransformerEncoderLayer"), options_(o) {
  check_layer_options(o, "TransformerEncoderLayer");
  // Registration order is PyTorch's, so state_dict() lists the same keys in the same order.
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(mha_options(o), gen));
  linear1 = register_module(
      "linear1",
      std::make_shared<Linear>(LinearOptions(o.d_model(), o.dim_feedforward()).dtype(o.dtype()), gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout(), gen));
  linear2 = register_module(
      "linear2",
      std::make_shared<Linear>(LinearOptions(o.dim_feedforward(), o.d_model()).dtype(o.dtype()), gen));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(norm_options(o)));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(norm_options(o)));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout(), gen));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout(), gen));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) {
  return forward(src, Tensor(), Tensor());
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask) {
  check_input_shape(src, 3, 2, options_.d_model(), "(N, T, " + std::to_string(options_.d_model()) + ")");
  auto sa = [&](const Tensor& x) {
    return drop(*dropout1, self_attn->forward(x, x, x, src_key_padding_mask, false, src_mask).output);
  };
  auto ff = [&](const Tensor& x) {
    return drop(*dropout2,
                linear2->forward(drop(*dropout, activate(linear1->forward(x), options_.activation()))));
  };
  Tensor x = src;
  if (options_.norm_first()) {
    x = x + sa(norm1->forward(x));
    x = x + ff(norm2->forward(x));
  } else {
    x = norm1->forward(x + sa(x));
    x = norm2->forward(x + ff(x));
  }
  return x;
}

std::string TransformerEncoderLayer::extra_repr() const {
  return layer_repr(options_);
}

// ---- decoder layer ----

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerDecoderLayerOptions& o, Generator* gen)
    : Module("TransformerDecoderLayer"), options_(o) {
  check_layer_options(o, "TransformerDecoderLayer");
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(mha_options(o), gen));
  multihead_attn =
      register_module("multihead_attn", std::make_shared<MultiheadAttention>(mha_options(o), gen));
  linear1 = register_module(
      "linear1",
      std::make_shared<Linear>(LinearOptions(o.d_model(), o.dim_feedforward()).dtype(o.dtype()), gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout(), gen));
  linear2 = register_module(
      "linear2",
      std::make_shared<Linear>(LinearOptions(o.dim_feedforward(), o.d_model()).dtype(o.dtype()), gen));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(norm_options(o)));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(norm_options(o)));
  norm3 = register_module("norm3", std::make_shared<LayerNorm>(norm_options(o)));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout(), gen));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout(), gen));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout(), gen));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                        const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask) {
  const std::string d = std::to_string(options_.d_model());
  check_input_shape(tgt, 3, 2, options_.d_model(), "tgt (N, T, " + d + ")");
  check_input_shape(memory, 3, 2, options_.d_model(), "memory (N, S, " + d + ")");
  auto sa = [&](const Tensor& x) {
    return drop(*dropout1, self_attn->forward(x, x, x, tgt_key_padding_mask, false, tgt_mask).output);
  };
  auto mha = [&](const Tensor& x) {
    return drop(
        *dropout2,
        multihead_attn->forward(x, memory, memory, memory_key_padding_mask, false, memory_mask).output);
  };
  auto ff = [&](const Tensor& x) {
    return drop(*dropout3,
                linear2->forward(drop(*dropout, activate(linear1->forward(x), options_.activation()))));
  };
  Tensor x = tgt;
  if (options_.norm_first()) {
    x = x + sa(norm1->forward(x));
    x = x + mha(norm2->forward(x));
    x = x + ff(norm3->forward(x));
  } else {
    x = norm1->forward(x + sa(x));
    x = norm2->forward(x + mha(x));
    x = norm3->forward(x + ff(x));
  }
  return x;
}

std::string TransformerDecoderLayer::extra_repr() const {
  return layer_repr(options_);
}

// ---- stacks ----

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayerOptions& layer, int64_t num_layers,
                                       std::shared_ptr<LayerNorm> final_norm, Generator* gen)
    : Module("TransformerEncoder") {
  EMBER_CHECK(num_layers > 0, ValueError, "TransformerEncoder: num_layers must be positive, got ",
              num_layers);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < num_layers; ++i)
    layers->push_back(std::make_shared<TransformerEncoderLayer>(layer, gen));
  copy_first_layer(*layers);
  if (final_norm) norm = register_module("norm", final_norm);
}

Tensor TransformerEncoder::forward(const Tensor& src) {
  return forward(src, Tensor(), Tensor());
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask) {
  Tensor x = src;
  for (auto& m : *layers)
    x = static_cast<TransformerEncoderLayer&>(*m).forward(x, mask, src_key_padding_mask);
  return norm ? norm->forward(x) : x;
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderLayerOptions& layer, int64_t num_layers,
                                       std::shared_ptr<LayerNorm> final_norm, Generator* gen)
    : Module("TransformerDecoder") {
  EMBER_CHECK(num_layers > 0, ValueError, "TransformerDecoder: num_layers must be positive, got ",
              num_layers);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < num_layers; ++i)
    layers->push_back(std::make_shared<TransformerDecoderLayer>(layer, gen));
  copy_first_layer(*layers);
  if (final_norm) norm = register_module("norm", final_norm);
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                   const Tensor& memory_key_padding_mask) {
  Tensor x = tgt;
  for (auto& m : *layers)
    x = static_cast<TransformerDecoderLayer&>(*m).forward(x, memory, tgt_mask, memory_mask,
                                                          tgt_key_padding_mask, memory_key_padding_mask);
  return norm ? norm->forward(x) : x;
}

// ---- positional encodings ----

PositionalEncoding::PositionalEncoding(int64_t d_model, double dropout, int64_t max_len, Generator* gen)
    : Module("PositionalEncoding"), d_model_(d_model), max_len_(max_len) {
  EMBER_CHECK(d_model > 0 && max_len > 0, ValueError,
              "PositionalEncoding: d_model and max_len must be positive, got ", d_model, " and ", max_len);
  pe_ = zeros({max_len, d_model});
  float* p = pe_.data<float>();
  for (int64_t i = 0; 2 * i < d_model; ++i) {
    // div = 10000^(-2i/d), computed as in PyTorch's tutorial: exp(2i * -ln(10000) / d).
    const double div =
        std::exp(static_cast<double>(2 * i) * (-std::log(10000.0) / static_cast<double>(d_model)));
    for (int64_t t = 0; t < max_len; ++t) {
      p[t * d_model + 2 * i] = static_cast<float>(std::sin(static_cast<double>(t) * div));
      if (2 * i + 1 < d_model)
        p[t * d_model + 2 * i + 1] = static_cast<float>(std::cos(static_cast<double>(t) * div));
    }
  }
  dropout_ = register_module("dropout", std::make_shared<Dropout>(dropout, gen));
}

Tensor PositionalEncoding::forward(const Tensor& x) {
  check_input_shape(x, x.dim() == 3 && x.size(2) == d_model_ && x.size(1) <= max_len_,
                    "(N, T <= " + std::to_string(max_len_) + ", " + std::to_string(d_model_) + ")");
  Tensor pe = slice(pe_, 0, 0, x.size(1));
  if (pe.dtype() != x.dtype()) pe = copy_as(pe, x.dtype());
  return dropout_->forward(x + pe);
}

std::string PositionalEncoding::extra_repr() const {
  return "d_model=" + std::to_string(d_model_) + ", max_len=" + std::to_string(max_len_);
}

LearnedPositionalEncoding::LearnedPositionalEncoding(int64_t max_len, int64_t d_model, double dropout,
                                                     Generator* gen)
    : Module("LearnedPositionalEncoding"), max_len_(max_len), d_model_(d_model) {
  EMBER_CHECK(d_model > 0 && max_len > 0, ValueError,
              "LearnedPositionalEncoding: d_model and max_len must be positive, got ", d_model, " and ",
              max_len);
  weight = register_parameter("weight", empty({max_len, d_model}));
  init::normal_(weight, 0.0, 1.0, gen);
  dropout_ = register_module("dropout", std::make_shared<Dropout>(dropout, gen));
}

Tensor LearnedPositionalEncoding::forward(const Tensor& x) {
  check_input_shape(x, x.dim() == 3 && x.size(2) == d_model_ && x.size(1) <= max_len_,
                    "(N, T <= " + std::to_string(max_len_) + ", " + std::to_string(d_model_) + ")");
  return dropout_->forward(x + slice(weight, 0, 0, x.size(1)));
}

std::string LearnedPositionalEncoding::extra_repr() const {
  return "max_len=" + std::to_string(max_len_) + ", d_model=" + std::to_string(d_model_);
}

}  // namespace ember::nn
