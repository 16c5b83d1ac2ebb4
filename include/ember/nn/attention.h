// nn::MultiheadAttention, batch-first, with PyTorch's parameter names (in_proj_weight (3E, E), in_proj_bias,
// out_proj.weight, out_proj.bias) and initialisation, so state dicts are exchangeable with
// torch.nn.MultiheadAttention(E, H, batch_first=True). Runs on the fused ember::scaled_dot_product_attention.
//
//   auto mha = std::make_shared<ember::nn::MultiheadAttention>(ember::nn::MultiheadAttentionOptions(128, 4));
//   auto y = mha->forward(x);                                   // self-attention, x (N, T, 128)
//   auto r = mha->forward(q, kv, kv, pad /*(N, S) bool, true = ignore*/, /*need_weights=*/true,
//                         ember::nn::causal_mask(T));           // r.output (N, L, E), r.weights (N, L, S)
#pragma once

#include <memory>

#include "ember/core/random.h"
#include "ember/nn/linear.h"
#include "ember/nn/module.h"

namespace ember::nn {

// (L, L) float mask with -inf above the diagonal and 0 elsewhere (torch.nn.Transformer's
// generate_square_subsequent_mask): position i may attend to positions <= i.
Tensor causal_mask(int64_t length, DType dtype = DType::Float32);

class MultiheadAttentionOptions {
 public:
  MultiheadAttentionOptions(int64_t embed_dim, int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads) {}
  // Dropout on the attention probabilities while training.
  MultiheadAttentionOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  MultiheadAttentionOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  MultiheadAttentionOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }
  double dropout() const { return dropout_; }
  bool bias() const { return bias_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t embed_dim_, num_heads_;
  double dropout_ = 0.0;
  bool bias_ = true;
  DType dtype_ = DType::Float32;
};

struct AttentionOutput {
  Tensor output;  // (N, L, E)
  Tensor
      weights;  // (N, L, S) averaged over heads, or (N, H, L, S); undefined unless need_weights. No gradient.
};

class MultiheadAttention : public Module {
 public:
  // `gen` draws the initial weights and the dropout masks (the global generator when null). Throws ValueError
  // unless embed_dim is a positive multiple of num_heads.
  explicit MultiheadAttention(const MultiheadAttentionOptions& options, Generator* gen = nullptr);

  // Self-attention without masks: forward(x, x, x).output.
  Tensor forward(const Tensor& x) override;
  // query (N, L, E), key and value (N, S, E). key_padding_mask (N, S): bool true = ignore that key, or float
  // added to the scores. attn_mask (L, S) or (N*H, L, S): bool true = not allowed, or float added (e.g.
  // causal_mask(L)). Masks carry no gradient. A query with every key masked gives NaN, like PyTorch 1.13.
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& key_padding_mask = Tensor(), bool need_weights = true,
                          const Tensor& attn_mask = Tensor(), bool average_attn_weights = true);
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  const MultiheadAttentionOptions& options() const { return options_; }

  Tensor in_proj_weight;  // (3E, E): rows [0, E) project queries, [E, 2E) keys, [2E, 3E) values
  Tensor in_proj_bias;    // (3E,), undefined without bias
  std::shared_ptr<Linear> out_proj;

 private:
  MultiheadAttentionOptions options_;
  Generator* gen_;
};

}  // namespace ember::nn
