// Scaled dot-product attention as one fused op: softmax(q k^T * scale + mask) v with batched GEMMs, a fused
// masked softmax and a hand-written backward (the attention probabilities are saved, nothing else is
// materialised). Same math and argument conventions as PyTorch 2's F.scaled_dot_product_attention.
//
//   auto q = ember::randn({N, H, L, E}), k = ember::randn({N, H, S, E}), v = ember::randn({N, H, S, Ev});
//   auto o = ember::scaled_dot_product_attention(q, k, v);                        // (N, H, L, Ev)
//   auto c = ember::scaled_dot_product_attention(q, k, v, Tensor(), 0.0, /*is_causal=*/true);
//   auto m = ember::scaled_dot_product_attention(q, k, v, keep_mask /*bool, true = may attend*/);
#pragma once

#include <optional>

#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember {

// q (B..., L, E), k (B..., S, E), v (B..., S, Ev) with the same leading dimensions -> (B..., L, Ev).
// attn_mask (optional) broadcasts to (B..., L, S): bool means true = may attend (PyTorch's SDPA convention,
// the opposite of nn.MultiheadAttention's), floating is added to the scores; it gets no gradient. is_causal
// masks key j > query i (top-left aligned) and may be combined with attn_mask. dropout_p > 0 drops attention
// probabilities (always: pass 0 in evaluation, like PyTorch) with the mask drawn from `gen` (global when
// null). scale defaults to 1/sqrt(E). A query row whose keys are all masked gives NaN, like PyTorch 1.13's
// nn.MultiheadAttention. Inputs may be strided views (only the last dimension must be dense); for 4-D inputs
// the result is a (N, H, L, Ev) view of (N, L, H, Ev) memory, so transpose(1, 2) then reshape to (N, L, H*Ev)
// costs no copy.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false, Generator* gen = nullptr,
                                    std::optional<double> scale = std::nullopt);

struct AttentionResult {
  Tensor output;   // as scaled_dot_product_attention returns it (differentiable)
  Tensor weights;  // (B..., L, S) attention probabilities after dropout; data only (no gradient)
};

// The same op, also returning the attention probabilities (what nn::MultiheadAttention's need_weights uses).
AttentionResult scaled_dot_product_attention_with_weights(const Tensor& q, const Tensor& k, const Tensor& v,
                                                          const Tensor& attn_mask = Tensor(),
                                                          double dropout_p = 0.0, bool is_causal = false,
                                                          Generator* gen = nullptr,
                                                          std::optional<double> scale = std::nullopt);

}  // namespace ember
