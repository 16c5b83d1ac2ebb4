// scaled_dot_product_attention: forward and backward side by side. Per (batch, head) matrix pair the forward
// is one GEMM for the scores, a fused scale + mask + softmax pass over each row, and one GEMM with v; the
// backward is four GEMMs and one fused pass for the softmax gradient. Batches run in parallel (static split),
// each GEMM single-threaded inside; scratch rows live in per-thread workspaces that are reused across calls.
#include "ember/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/random.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// A per-thread scratch buffer that only grows: no allocation once the largest shape has been seen.
template <typename T>
T* workspace(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// The batch of matrices in the last two dimensions of a tensor: element (b, i, j) is at
// base[off[b] + i * ld + j]. Tensors whose last dimension is not dense are copied first.
struct MatBatch {
  Tensor t;  // keeps the data alive
  std::vector<int64_t> off;
  int64_t ld = 0;
};

MatBatch mat_batch(const Tensor& x) {
  Tensor t = x;
  const int64_t r = t.dim();
  const int64_t cols = t.shape()[r - 1];
  if (cols > 1 && t.strides()[r - 1] != 1) t = contiguous_data(t);
  MatBatch m;
  m.t = t;
  const int64_t rows = t.shape()[r - 2];
  m.ld = rows > 1 ? t.strides()[r - 2] : std::max<int64_t>(cols, 1);
  if (rows > 1 && m.ld < cols) {  // overlapping rows (an expanded view): make it dense
    m.t = t = contiguous_data(t);
    m.ld = cols;
  }
  int64_t nb = 1;
  for (int64_t d = 0; d < r - 2; ++d) nb *= t.shape()[d];
  m.off.resize(nb);
  for (int64_t b = 0; b < nb; ++b) {
    int64_t rem = b, o = t.offset();
    for (int64_t d = r - 3; d >= 0; --d) {
      o += (rem % t.shape()[d]) * t.strides()[d];
      rem /= t.shape()[d];
    }
    m.off[b] = o;
  }
  return m;
}

// A new tensor of `shape` (rank >= 2). For rank 4 (N, H, L, C) the memory is laid out as (N, L, H, C), so
// that the usual transpose(1, 2) + reshape to (N, L, H*C) is free.
Tensor new_result(const Shape& shape, DType dt) {
  if (shape.size() != 4) return empty(shape, dt);
  const int64_t n = shape[0], h = shape[1], l = shape[2], c = shape[3];
  Tensor base = empty({n, l, h, c}, dt);
  return as_strided(base, shape, Shape{l * h * c, c, h * c, 1}, base.offset());
}

// The additive or boolean mask broadcast to (B..., L, S), with per-batch offsets and row/column strides.
struct MaskView {
  bool present = false;
  bool is_bool = false;
  Tensor t;
  std::vector<int64_t> off;
  int64_t rs = 0, cs = 0;
};

MaskView mask_view(const Tensor& mask, const Shape& target, DType dt) {
  MaskView m;
  if (!mask.defined()) return m;
  m.present = true;
  m.is_bool = mask.dtype() == DType::Bool;
  EMBER_CHECK(m.is_bool || mask.dtype() == DType::Float32 || mask.dtype() == DType::Float64, DTypeError, kOp,
              ": attn_mask must be bool or floating, got ", dtype_name(mask.dtype()));
  EMBER_CHECK(mask.dim() <= static_cast<int64_t>(target.size()) &&
                  broadcast_shapes(mask.shape(), target, kOp) == target,
              ShapeError, kOp, ": attn_mask ", mask.shape(), " does not broadcast to ", target);
  Tensor t = mask.detach();
  if (!m.is_bool && t.dtype() != dt) t = copy_as(t, dt);
  // Broadcast by strides: size-1 (or missing) dimensions get stride 0.
  const size_t r = target.size(), mr = static_cast<size_t>(t.dim());
  Shape strides = Shape::filled(r, 0);
  for (size_t i = 0; i < mr; ++i) {
    const size_t d = r - mr + i;
    strides[d] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  }
  m.t = t;
  m.rs = strides[r - 2];
  m.cs = strides[r - 1];
  int64_t nb = 1;
  for (size_t d = 0; d + 2 < r; ++d) nb *= target[d];
  m.off.resize(nb);
  for (int64_t b = 0; b < nb; ++b) {
    int64_t rem = b, o = t.offset();
    for (int64_t d = static_cast<int64_t>(r) - 3; d >= 0; --d) {
      o += (rem % target[d]) * strides[d];
      rem /= target[d];
    }
    m.off[b] = o;
  }
  return m;
}

struct Dims {
  int64_t nb = 0, l = 0, s = 0, e = 0, ev = 0;
  // Batches per thread chunk: small problems run inline (a parallel region costs more than they do).
  int64_t grain() const { return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, l * s * (e + ev + 4))); }
};

// Scores -> probabilities for one (L, S) block in place: scale was applied by the GEMM; adds/applies the
// mask and the causal limit, then a max-subtracted softmax per row. An all-masked row becomes NaN
// (exp(-inf - -inf)), as in PyTorch 1.13.
template <typename T>
void masked_softmax_rows(T* p, const Dims& d, const MaskView& mv, int64_t b, bool causal) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < d.l; ++i) {
    T* row = p + i * d.s;
    if (mv.present) {
      if (mv.is_bool) {
        const bool* m = static_cast<const bool*>(mv.t.storage()->data()) + mv.off[b] + i * mv.rs;
        for (int64_t j = 0; j < d.s; ++j)
          if (!m[j * mv.cs]) row[j] = neg_inf;
      } else {
        const T* m = static_cast<const T*>(mv.t.storage()->data()) + mv.off[b] + i * mv.rs;
        if (mv.cs == 1) {
          for (int64_t j = 0; j < d.s; ++j) row[j] += m[j];
        } else {
          for (int64_t j = 0; j < d.s; ++j) row[j] += m[j * mv.cs];
        }
      }
    }
    if (causal)
      for (int64_t j = i + 1; j < d.s; ++j) row[j] = neg_inf;
    T mx = neg_inf;
    for (int64_t j = 0; j < d.s; ++j) mx = std::max(mx, row[j]);
    if (mx == neg_inf) mx = std::numeric_limits<T>::quiet_NaN();
    T sum = 0;
    for (int64_t j = 0; j < d.s; ++j) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const T inv = T(1) / sum;
    for (int64_t j = 0; j < d.s; ++j) row[j] *= inv;
  }
}

struct SdpaBackward : autograd::Node {
  SavedTensor q, k, v;
  Tensor probs;  // (B, L, S) softmax output, before dropout
  Tensor keep;   // (B, L, S) bool dropout mask, or undefined
  double scale = 1.0, drop_scale = 1.0;
  Dims d;
  const char* name() const override { return kOp; }
  std::vector<Tensor> apply(const Tensor& g_in) override;
  void release_saved() override {
    q.reset();
    k.reset();
    v.reset();
    probs = Tensor();
    keep = Tensor();
  }
};

template <typename T>
void sdpa_forward(const MatBatch& q, const MatBatch& k, const MatBatch& v, const MaskView& mv, bool causal,
                  const Dims& d, T scale, const bool* keep, T drop_scale, T* probs, const MatBatch& o,
                  T* weights) {
  const T* pq = static_cast<const T*>(q.t.storage()->data());
  const T* pk = static_cast<const T*>(k.t.storage()->data());
  const T* pv = static_cast<const T*>(v.t.storage()->data());
  T* po = static_cast<T*>(o.t.storage()->data());
  const int64_t ls = d.l * d.s;
  parallel_for(0, d.nb, d.grain(), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      T* p = probs + b * ls;
      if (d.e == 0) {
        std::fill(p, p + ls, T(0));
      } else {
        kernels::gemm(false, true, d.l, d.s, d.e, scale, pq + q.off[b], q.ld, pk + k.off[b], k.ld, T(0), p,
                      d.s);
      }
      masked_softmax_rows(p, d, mv, b, causal);
      const T* pd = p;
      if (keep) {
        T* w = weights ? weights + b * ls : workspace<T>(ls);
        const bool* kb = keep + b * ls;
        for (int64_t i = 0; i < ls; ++i) w[i] = kb[i] ? p[i] * drop_scale : T(0);
        pd = w;
      } else if (weights) {
        std::copy(p, p + ls, weights + b * ls);
      }
      if (d.s == 0) {
        for (int64_t i = 0; i < d.l; ++i)
          std::fill(po + o.off[b] + i * o.ld, po + o.off[b] + i * o.ld + d.ev, T(0));
      } else {
        kernels::gemm(false, false, d.l, d.ev, d.s, T(1), pd, d.s, pv + v.off[b], v.ld, T(0), po + o.off[b],
                      o.ld);
      }
    }
  });
}

template <typename T>
void sdpa_backward(const MatBatch& q, const MatBatch& k, const MatBatch& v, const MatBatch& go, const Dims& d,
                   T scale, const bool* keep, T drop_scale, const T* probs, const MatBatch* dq,
                   const MatBatch* dk, const MatBatch* dv) {
  const T* pq = static_cast<const T*>(q.t.storage()->data());
  const T* pk = static_cast<const T*>(k.t.storage()->data());
  const T* pv = static_cast<const T*>(v.t.storage()->data());
  const T* pg = static_cast<const T*>(go.t.storage()->data());
  const int64_t ls = d.l * d.s;
  parallel_for(0, d.nb, d.grain(), [&](int64_t lo, int64_t hi) {
    T* ws = workspace<T>(2 * ls);
    T* dp = ws;          // gradient of the (dropped) probabilities, then of the scores
    T* pdrop = ws + ls;  // dropped probabilities (only with dropout)
    for (int64_t b = lo; b < hi; ++b) {
      const T* p = probs + b * ls;
      const bool* kb = keep ? keep + b * ls : nullptr;
      const T* pd = p;
      if (kb) {
        for (int64_t i = 0; i < ls; ++i) pdrop[i] = kb[i] ? p[i] * drop_scale : T(0);
        pd = pdrop;
      }
      if (dv) {
        T* out = static_cast<T*>(dv->t.storage()->data()) + dv->off[b];
        kernels::gemm(true, false, d.s, d.ev, d.l, T(1), pd, d.s, pg + go.off[b], go.ld, T(0), out, dv->ld);
      }
      if (!dq && !dk) continue;
      if (d.ev == 0) {
        std::fill(dp, dp + ls, T(0));
      } else {
        kernels::gemm(false, true, d.l, d.s, d.ev, T(1), pg + go.off[b], go.ld, pv + v.off[b], v.ld, T(0), dp,
                      d.s);
      }
      // Softmax backward per row: ds = p * (dp - sum_j p_j dp_j), with dp first taken through the dropout.
      for (int64_t i = 0; i < d.l; ++i) {
        T* row = dp + i * d.s;
        const T* prow = p + i * d.s;
        if (kb) {
          const bool* krow = kb + i * d.s;
          for (int64_t j = 0; j < d.s; ++j) row[j] = krow[j] ? row[j] * drop_scale : T(0);
        }
        T dot = 0;
        for (int64_t j = 0; j < d.s; ++j) dot += prow[j] * row[j];
        for (int64_t j = 0; j < d.s; ++j) row[j] = prow[j] * (row[j] - dot);
      }
      if (dq) {
        T* out = static_cast<T*>(dq->t.storage()->data()) + dq->off[b];
        kernels::gemm(false, false, d.l, d.e, d.s, scale, dp, d.s, pk + k.off[b], k.ld, T(0), out, dq->ld);
      }
      if (dk) {
        T* out = static_cast<T*>(dk->t.storage()->data()) + dk->off[b];
        kernels::gemm(true, false, d.s, d.e, d.l, scale, dp, d.s, pq + q.off[b], q.ld, T(0), out, dk->ld);
      }
    }
  });
}

// A zero-filled gradient when a dimension is empty (the GEMMs are skipped then).
Tensor new_grad(const Shape& shape, DType dt, bool any_empty) {
  Tensor g = new_result(shape, dt);
  if (any_empty) fill_(g, 0.0);
  return g;
}

std::vector<Tensor> SdpaBackward::apply(const Tensor& g_in) {
  const Tensor& tq = q.get(this);
  const Tensor& tk = k.get(this);
  const Tensor& tv = v.get(this);
  MatBatch mq = mat_batch(tq), mk = mat_batch(tk), mv = mat_batch(tv), mg = mat_batch(g_in);
  const bool empty_dim = d.l == 0 || d.s == 0 || d.e == 0 || d.ev == 0;
  Tensor dq, dk, dv;
  MatBatch bq, bk, bv;
  if (next_edges[0].fn) {
    dq = new_grad(tq.shape(), tq.dtype(), empty_dim);
    bq = mat_batch(dq);
  }
  if (next_edges[1].fn) {
    dk = new_grad(tk.shape(), tk.dtype(), empty_dim);
    bk = mat_batch(dk);
  }
  if (next_edges[2].fn) {
    dv = new_grad(tv.shape(), tv.dtype(), empty_dim);
    bv = mat_batch(dv);
  }
  if (d.nb > 0 && d.l > 0 && d.s > 0) {
    dispatch_floating(tq.dtype(), kOp, [&](auto tag) {
      using T = decltype(tag);
      const bool* kp = keep.defined() ? keep.data<bool>() : nullptr;
      // Empty e / ev: only the GEMMs with a non-empty inner dimension write anything meaningful; the rest
      // stay zero.
      sdpa_backward<T>(mq, mk, mv, mg, d, static_cast<T>(scale), kp, static_cast<T>(drop_scale),
                       probs.data<T>(), dq.defined() && d.e > 0 ? &bq : nullptr,
                       dk.defined() && d.e > 0 ? &bk : nullptr, dv.defined() && d.ev > 0 ? &bv : nullptr);
    });
  }
  return {dq, dk, dv};
}

AttentionResult sdpa_impl(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                          double dropout_p, bool is_causal, Generator* gen, std::optional<double> scale_opt,
                          bool want_weights) {
  EMBER_CHECK(q.defined() && k.defined() && v.defined(), ValueError, kOp, ": undefined query, key or value");
  EMBER_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), ShapeError, kOp,
              ": query, key and value must have the same rank (at least 2), got ", q.shape(), ", ", k.shape(),
              " and ", v.shape());
  EMBER_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), DTypeError, kOp,
              ": query, key and value must have one dtype, got ", dtype_name(q.dtype()), ", ",
              dtype_name(k.dtype()), " and ", dtype_name(v.dtype()));
  EMBER_CHECK(q.dtype() == DType::Float32 || q.dtype() == DType::Float64, DTypeError, kOp,
              ": expected float32 or float64, got ", dtype_name(q.dtype()));
  const int64_t r = q.dim();
  for (int64_t i = 0; i < r - 2; ++i)
    EMBER_CHECK(q.shape()[i] == k.shape()[i] && q.shape()[i] == v.shape()[i], ShapeError, kOp, ": query ",
                q.shape(), ", key ", k.shape(), " and value ", v.shape(),
                " must have the same leading (batch) dimensions");
  Dims d;
  d.l = q.shape()[r - 2];
  d.e = q.shape()[r - 1];
  d.s = k.shape()[r - 2];
  d.ev = v.shape()[r - 1];
  EMBER_CHECK(k.shape()[r - 1] == d.e, ShapeError, kOp, ": query ", q.shape(), " and key ", k.shape(),
              " must have the same last dimension");
  EMBER_CHECK(v.shape()[r - 2] == d.s, ShapeError, kOp, ": key ", k.shape(), " and value ", v.shape(),
              " must have the same sequence length");
  EMBER_CHECK(dropout_p >= 0.0 && dropout_p <= 1.0, ValueError, kOp, ": dropout_p must be in [0, 1], got ",
              dropout_p);
  d.nb = 1;
  for (int64_t i = 0; i < r - 2; ++i) d.nb *= q.shape()[i];
  Shape score_shape(q.shape().data(), r - 2);
  score_shape.push_back(d.l);
  score_shape.push_back(d.s);
  MaskView mv = mask_view(attn_mask, score_shape, q.dtype());
  const double scale = scale_opt ? *scale_opt : (d.e > 0 ? 1.0 / std::sqrt(static_cast<double>(d.e)) : 1.0);

  Shape out_shape(q.shape().data(), r - 1);
  out_shape.push_back(d.ev);
  Tensor out = new_result(out_shape, q.dtype());
  Tensor probs = empty({d.nb, d.l, d.s}, q.dtype());
  Tensor keep;
  double drop_scale = 1.0;
  if (dropout_p > 0.0) {
    Generator& g = gen ? *gen : default_generator();
    keep = empty({d.nb, d.l, d.s}, DType::Bool);
    bool* pk = keep.data<bool>();
    // One draw from the generator keys the whole mask (kernels/random.h: the same mask for any thread count).
    kernels::bernoulli_keep(g.next_u64(), dropout_p, pk, keep.numel());
    drop_scale = dropout_p == 1.0 ? 0.0 : 1.0 / (1.0 - dropout_p);
  }
  Tensor weights;
  if (want_weights) weights = empty(score_shape, q.dtype());
  MatBatch mq = mat_batch(q), mk = mat_batch(k), mvv = mat_batch(v), mo = mat_batch(out);
  dispatch_floating(q.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    sdpa_forward<T>(mq, mk, mvv, mv, is_causal, d, static_cast<T>(scale),
                    keep.defined() ? keep.data<bool>() : nullptr, static_cast<T>(drop_scale), probs.data<T>(),
                    mo, weights.defined() ? weights.data<T>() : nullptr);
  });
  if (autograd::any_requires_grad({&q, &k, &v})) {
    auto node = std::make_shared<SdpaBackward>();
    node->q = SavedTensor(q);
    node->k = SavedTensor(k);
    node->v = SavedTensor(v);
    node->probs = probs;
    node->keep = keep;
    node->scale = scale;
    node->drop_scale = drop_scale;
    node->d = d;
    autograd::record(node, {&q, &k, &v}, out);
  }
  return {out, weights};
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal, Generator* gen,
                                    std::optional<double> scale) {
  return sdpa_impl(q, k, v, attn_mask, dropout_p, is_causal, gen, scale, false).output;
}

AttentionResult scaled_dot_product_attention_with_weights(const Tensor& q, const Tensor& k, const Tensor& v,
                                                          const Tensor& attn_mask, double dropout_p,
                                                          bool is_causal, Generator* gen,
                                                          std::optional<double> scale) {
  return sdpa_impl(q, k, v, attn_mask, dropout_p, is_causal, gen, scale, true);
}

}  // namespace ember
