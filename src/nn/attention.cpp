#include "ember/nn/attention.h"

#include <cmath>
#include <limits>

#include "ember/nn/init.h"
#include "ember/ops/attention.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"

namespace ember::nn {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// An nn-convention mask (bool true = ignore, or float added) as an additive float mask.
Tensor additive(const Tensor& m, DType dt) {
  if (m.dtype() == DType::Bool) return masked_fill(zeros(m.shape(), dt), m, kNegInf);
  return m.dtype() == dt ? m.detach() : copy_as(m, dt);
}

}  // namespace

Tensor causal_mask(int64_t length, DType dtype) {
  EMBER_CHECK(length >= 0, ValueError, "causal_mask: length must be non-negative, got ", length);
  Tensor m = zeros({length, length}, dtype);
  for (int64_t i = 0; i < length; ++i)
    for (int64_t j = i + 1; j < length; ++j) m.set({i, j}, kNegInf);
  return m;
}

MultiheadAttention::MultiheadAttention(const MultiheadAttentionOptions& options, Generator* gen)
    : Module("MultiheadAttention"), options_(options), gen_(gen) {
  const int64_t e = options.embed_dim(), h = options.num_heads();
  EMBER_CHECK(e > 0 && h > 0, ValueError,
              "MultiheadAttention: embed_dim and num_heads must be positive, got ", e, " and ", h);
  EMBER_CHECK(e % h == 0, ValueError, "MultiheadAttention: embed_dim ", e, " must be divisible by num_heads ",
              h);
  EMBER_CHECK(options.dropout() >= 0 && options.dropout() <= 1, ValueError,
              "MultiheadAttention: dropout must be in [0, 1], got ", options.dropout());
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * e, e}, options.dtype()));
  in_proj_bias =
      register_parameter("in_proj_bias", options.bias() ? empty({3 * e}, options.dtype()) : Tensor());
  out_proj = register_module(
      "out_proj",
      std::make_shared<Linear>(LinearOptions(e, e).bias(options.bias()).dtype(options.dtype()), gen));
  reset_parameters(gen);
}

void MultiheadAttention::reset_parameters(Generator* gen) {
  // PyTorch: xavier_uniform_ on the packed projection, zero biases; out_proj keeps Linear's weight init.
  init::xavier_uniform_(in_proj_weight, 1.0, gen);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  return forward(x, x, x, Tensor(), false).output;
}

AttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                            const Tensor& key_padding_mask, bool need_weights,
                                            const Tensor& attn_mask, bool average_attn_weights) {
  const int64_t e = options_.embed_dim(), h = options_.num_heads(), hd = e / h;
  const std::string want = "(N, L, " + std::to_string(e) + ")";
  check_input_shape(query, 3, 2, e, "query " + want);
  check_input_shape(key, 3, 2, e, "key (N, S, " + std::to_string(e) + ")");
  check_input_shape(value, 3, 2, e, "value (N, S, " + std::to_string(e) + ")");
  const int64_t n = query.size(0), l = query.size(1), s = key.size(1);
  check_input_shape(key, key.size(0) == n && value.size(0) == n && value.size(1) == s,
                    "key and value (" + std::to_string(n) + ", S, " + std::to_string(e) +
                        ") with the query's batch and one length S");
  if (key_padding_mask.defined())
    check_input_shape(
        key_padding_mask,
        key_padding_mask.dim() == 2 && key_padding_mask.size(0) == n && key_padding_mask.size(1) == s,
        "key_padding_mask (" + std::to_string(n) + ", " + std::to_string(s) + ")");
  if (attn_mask.defined())
    check_input_shape(attn_mask,
                      (attn_mask.dim() == 2 && attn_mask.size(0) == l && attn_mask.size(1) == s) ||
                          (attn_mask.dim() == 3 && attn_mask.size(0) == n * h && attn_mask.size(1) == l &&
                           attn_mask.size(2) == s),
                      "attn_mask (" + std::to_string(l) + ", " + std::to_string(s) + ") or (" +
                          std::to_string(n * h) + ", " + std::to_string(l) + ", " + std::to_string(s) + ")");

  // Projections: one GEMM for self-attention (query is key is value), two when key is value, else three.
  auto w_rows = [&](int64_t lo, int64_t hi) { return slice(in_proj_weight, 0, lo * e, hi * e); };
  auto b_rows = [&](int64_t lo, int64_t hi) {
    return in_proj_bias.defined() ? slice(in_proj_bias, 0, lo * e, hi * e) : Tensor();
  };
  Tensor q, k, v;
  if (query.same(key) && key.same(value)) {
    auto qkv = chunk(linear(query, in_proj_weight, in_proj_bias), 3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else if (key.same(value)) {
    q = linear(query, w_rows(0, 1), b_rows(0, 1));
    auto kv = chunk(linear(key, w_rows(1, 3), b_rows(1, 3)), 2, -1);
    k = kv[0], v = kv[1];
  } else {
    q = linear(query, w_rows(0, 1), b_rows(0, 1));
    k = linear(key, w_rows(1, 2), b_rows(1, 2));
    v = linear(value, w_rows(2, 3), b_rows(2, 3));
  }
  // (N, T, E) -> (N, H, T, hd) views.
  auto heads = [&](const Tensor& t, int64_t len) { return transpose(reshape(t, {n, len, h, hd}), 1, 2); };
  q = heads(q, l);
  k = heads(k, s);
  v = heads(v, s);

  // Masks in SDPA form, broadcasting to (N, H, L, S): bool masks flip to "true = may attend", masks of both
  // kinds are added as floats.
  Tensor mask;
  const DType dt = query.dtype();
  Tensor am =
      attn_mask.defined() && attn_mask.dim() == 3 ? reshape(attn_mask.detach(), {n, h, l, s}) : attn_mask;
  Tensor kpm = key_padding_mask.defined() ? reshape(key_padding_mask.detach(), {n, 1, 1, s}) : Tensor();
  if (am.defined() && kpm.defined()) {
    mask = additive(am, dt) + additive(kpm, dt);
  } else if (am.defined() || kpm.defined()) {
    const Tensor& m = am.defined() ? am : kpm;
    mask = m.dtype() == DType::Bool ? logical_not(m) : additive(m, dt);
  }
  const double p = is_training() ? options_.dropout() : 0.0;
  AttentionOutput out;
  Tensor o;
  if (need_weights) {
    auto r = scaled_dot_product_attention_with_weights(q, k, v, mask, p, false, gen_);
    o = r.output;
    out.weights = average_attn_weights ? mean(r.weights, {1}) : r.weights;
  } else {
    o = scaled_dot_product_attention(q, k, v, mask, p, false, gen_);
  }
  // (N, H, L, hd) laid out as (N, L, H, hd): back to (N, L, E) without a copy.
  o = reshape(transpose(o, 1, 2), {n, l, e});
  out.output = out_proj->forward(o);
  return out;
}

std::string MultiheadAttention::extra_repr() const {
  return "embed_dim=" + std::to_string(options_.embed_dim()) +
         ", num_heads=" + std::to_string(options_.num_heads()) +
         ", dropout=" + std::to_string(options_.dropout()) + ", bias=" + (options_.bias() ? "true" : "false");
}

}  // namespace ember::nn
