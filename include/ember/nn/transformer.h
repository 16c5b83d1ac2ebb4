// Transformer layers with PyTorch's structure and state_dict names (batch-first): TransformerEncoderLayer
// (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2), TransformerDecoderLayer (+
// multihead_attn, norm3, dropout3), the stacks TransformerEncoder / TransformerDecoder ("layers.0...",
// optional final "norm"), and positional encodings. Post-norm by default, pre-norm with norm_first(true).
//
//   namespace nn = ember::nn;
//   auto opts = nn::TransformerEncoderLayerOptions(128, 4).dim_feedforward(512).dropout(0.1);
//   auto enc = std::make_shared<nn::TransformerEncoder>(opts, /*num_layers=*/2);
//   auto pe = std::make_shared<nn::PositionalEncoding>(128);
//   auto h = enc->forward(pe->forward(x), nn::causal_mask(T), pad_mask);   // x (N, T, 128)
#pragma once

#include <memory>
#include <string>

#include "ember/nn/attention.h"
#include "ember/nn/basic.h"
#include "ember/nn/container.h"
#include "ember/nn/layer_norm.h"
#include "ember/nn/linear.h"

namespace ember::nn {

class TransformerEncoderLayerOptions {
 public:
  TransformerEncoderLayerOptions(int64_t d_model, int64_t nhead) : d_model_(d_model), nhead_(nhead) {}
  TransformerEncoderLayerOptions& dim_feedforward(int64_t v) {
    dim_ff_ = v;
    return *this;
  }
  TransformerEncoderLayerOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  // "relu" or "gelu" (exact, erf-based).
  TransformerEncoderLayerOptions& activation(std::string name) {
    activation_ = std::move(name);
    return *this;
  }
  TransformerEncoderLayerOptions& layer_norm_eps(double v) {
    eps_ = v;
    return *this;
  }
  // Pre-norm: x + block(norm(x)) instead of norm(x + block(x)).
  TransformerEncoderLayerOptions& norm_first(bool on) {
    norm_first_ = on;
    return *this;
  }
  TransformerEncoderLayerOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t d_model() const { return d_model_; }
  int64_t nhead() const { return nhead_; }
  int64_t dim_feedforward() const { return dim_ff_; }
  double dropout() const { return dropout_; }
  const std::string& activation() const { return activation_; }
  double layer_norm_eps() const { return eps_; }
  bool norm_first() const { return norm_first_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t d_model_, nhead_;
  int64_t dim_ff_ = 2048;
  double dropout_ = 0.1;
  std::string activation_ = "relu";
  double eps_ = 1e-5;
  bool norm_first_ = false;
  DType dtype_ = DType::Float32;
};

using TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options, Generator* gen = nullptr);
  Tensor forward(const Tensor& src) override;
  // src (N, T, d_model); src_mask (T, T) and src_key_padding_mask (N, T) as in MultiheadAttention.
  Tensor forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask = Tensor());
  std::string extra_repr() const override;
  const TransformerEncoderLayerOptions& options() const { return options_; }

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;

 private:
  TransformerEncoderLayerOptions options_;
};

class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerDecoderLayerOptions& options, Generator* gen = nullptr);
  // tgt (N, T, d_model) attends to itself (tgt_mask, e.g. causal_mask(T)) and to memory (N, S, d_model).
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(), const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor());
  std::string extra_repr() const override;
  const TransformerDecoderLayerOptions& options() const { return options_; }

  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;

 private:
  TransformerDecoderLayerOptions options_;
};

// num_layers copies of one layer. Like PyTorch (which deep-copies the layer it is given), every layer starts
// with the same weights. `norm` (may be null) is applied to the output of the last layer.
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(const TransformerEncoderLayerOptions& layer, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr, Generator* gen = nullptr);
  Tensor forward(const Tensor& src) override;
  Tensor forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask = Tensor());

  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

class TransformerDecoder : public Module {
 public:
  TransformerDecoder(const TransformerDecoderLayerOptions& layer, int64_t num_layers,
                     std::shared_ptr<LayerNorm> norm = nullptr, Generator* gen = nullptr);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(), const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor());

  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

// Sinusoidal positions of "Attention is all you need": x (N, T, d_model) + pe[:T], then dropout, with
// pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...). pe is a fixed table, not in the state_dict.
class PositionalEncoding : public Module {
 public:
  explicit PositionalEncoding(int64_t d_model, double dropout = 0.1, int64_t max_len = 5000,
                              Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  const Tensor& table() const { return pe_; }  // (max_len, d_model)

 private:
  int64_t d_model_, max_len_;
  Tensor pe_;
  std::shared_ptr<Dropout> dropout_;
};

// Trained positions: x (N, T, d_model) + weight[:T], then dropout. Parameter "weight" (max_len, d_model),
// initialised N(0, 1) like an Embedding of the positions.
class LearnedPositionalEncoding : public Module {
 public:
  LearnedPositionalEncoding(int64_t max_len, int64_t d_model, double dropout = 0.0, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;

 private:
  int64_t max_len_, d_model_;
  std::shared_ptr<Dropout> dropout_;
};

}  // namespace ember::nn
