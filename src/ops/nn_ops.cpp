// linear and dropout: the fused ops behind nn::Linear and nn::Dropout, each forward next to its backward.
#include "ember/ops/nn_ops.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/random.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

// How the (out, in) weight is fed to GEMM as the right operand W^T without a copy: a contiguous weight is
// used with the transpose flag, a transposed view of a contiguous (in, out) matrix without it.
struct WeightLayout {
  Tensor w;
  bool trans = true;
  int64_t ld = 0;
};

WeightLayout weight_layout(const Tensor& w) {
  const int64_t out = w.shape()[0], in = w.shape()[1];
  const int64_t s0 = w.strides()[0], s1 = w.strides()[1];
  // Row-major (out, in) with row stride s0 (a size-1 extent's stride is irrelevant).
  if ((s1 == 1 || in <= 1) && (out <= 1 || s0 >= std::max<int64_t>(in, 1)))
    return {w, true, out <= 1 ? std::max<int64_t>(in, 1) : s0};
  // Column-major, i.e. a transposed view of a row-major (in, out) matrix with row stride s1.
  if ((s0 == 1 || out <= 1) && (in <= 1 || s1 >= std::max<int64_t>(out, 1)))
    return {w, false, in <= 1 ? std::max<int64_t>(out, 1) : s1};
  return {contiguous_data(w), true, std::max<int64_t>(in, 1)};
}

struct LinearBackward : autograd::Node {
  SavedTensor x;  // contiguous input, flattened view (rows, in)
  SavedTensor w;
  bool has_bias = false;
  Shape x_shape;
  const char* name() const override { return "linear"; }
  std::vector<Tensor> apply(const Tensor& g_in) override {
    const Tensor& x2 = x.get(this);
    const Tensor& wt = w.get(this);
    const int64_t rows = x2.shape()[0], in = x2.shape()[1], out = wt.shape()[0];
    Tensor g = contiguous_data(g_in);
    WeightLayout wl = weight_layout(wt);
    Tensor dx, dw, db;
    dispatch_floating(g.dtype(), "linear", [&](auto tag) {
      using T = decltype(tag);
      const T* pg = static_cast<const T*>(g.raw_data());
      const T* px = static_cast<const T*>(x2.raw_data());
      const T* pw = static_cast<const T*>(wl.w.raw_data());
      if (next_edges[0].fn) {
        // dx (rows, in) = g (rows, out) @ W (out, in)
        dx = empty(x_shape, g.dtype());
        if (rows * in > 0) {
          if (out == 0) {
            std::memset(dx.raw_data(), 0, sizeof(T) * rows * in);
          } else {
            kernels::gemm(false, !wl.trans, rows, in, out, T(1), pg, out, pw, wl.ld, T(0), dx.data<T>(), in);
          }
        }
      }
      if (next_edges[1].fn) {
        // dW (out, in) = g^T (out, rows) @ x (rows, in)
        dw = empty(wt.shape(), g.dtype());
        if (out * in > 0) {
          if (rows == 0) {
            std::memset(dw.raw_data(), 0, sizeof(T) * out * in);
          } else {
            kernels::gemm(true, false, out, in, rows, T(1), pg, out, px, in, T(0), dw.data<T>(), in);
          }
        }
      }
      if (has_bias && next_edges[2].fn) {
        // db = column sums of g, accumulated row by row (vectorises over the columns).
        db = zeros({out}, g.dtype());
        T* pb = db.data<T>();
        for (int64_t i = 0; i < rows; ++i) {
          const T* gi = pg + i * out;
          for (int64_t j = 0; j < out; ++j) pb[j] += gi[j];
        }
      }
    });
    if (has_bias) return {dx, dw, db};
    return {dx, dw};
  }
  void release_saved() override {
    x.reset();
    w.reset();
  }
};

struct DropoutBackward : autograd::Node {
  SavedTensor mask;  // bool, true where kept
  double scale = 1.0;
  const char* name() const override { return "dropout"; }
  std::vector<Tensor> apply(const Tensor& g_in) override {
    const Tensor& m = mask.get(this);
    Tensor g = contiguous_data(g_in);
    Tensor dx = empty(g.shape(), g.dtype());
    const bool* pm = m.data<bool>();
    dispatch_floating(g.dtype(), "dropout", [&](auto tag) {
      using T = decltype(tag);
      const T* pg = g.data<T>();
      T* pd = dx.data<T>();
      const T s = static_cast<T>(scale);
      parallel_for(0, g.numel(), 32768, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) pd[i] = pm[i] ? pg[i] * s : T(0);
      });
    });
    return {dx};
  }
  void release_saved() override { mask.reset(); }
};

}  // namespace

namespace {

// Weights between these sizes (elements) use LinearWeightCache. Measured with half-zero inputs: 128x784
// ~3.1 µs against ~6 µs for gemv, 64x128 ~0.27 against ~0.39 µs; 10x64 stays faster with gemv (0.05 against
// 0.065 µs: the list of nonzero inputs costs more than it saves). Above 2^21, gemv splits over the threads.
constexpr int64_t kPackedMin = int64_t(1) << 13, kPackedMax = int64_t(1) << 21;

}  // namespace

struct LinearWeightCache::Packed {
  // The weight this copy was made from. owner_before compares the control blocks: a storage freed and another
  // allocated at the same address never compares equal.
  std::weak_ptr<Storage> storage;
  uint64_t version = 0;
  const void* data = nullptr;
  int64_t out = 0, in = 0, ld = 0;
  bool built = false;   // false: seen once, no copy yet
  bool finite = false;  // every weight finite (else the copy is not used)
  std::vector<float> wt;

  bool matches(const Tensor& w, int64_t ld_) const {
    const auto& st = w.storage();
    return data == w.raw_data() && version == st->version() && out == w.shape()[0] && in == w.shape()[1] &&
           ld == ld_ && !storage.owner_before(st) && !st.owner_before(storage);
  }
};

LinearWeightCache::LinearWeightCache() = default;
LinearWeightCache::~LinearWeightCache() = default;

std::shared_ptr<const LinearWeightCache::Packed> LinearWeightCache::get(const Tensor& w, int64_t ld) {
  std::lock_guard<std::mutex> lock(mu_);
  if (packed_ && packed_->matches(w, ld)) {
    if (!packed_->built) {
      // Second call with the same, unchanged weight: worth a copy.
      auto p = std::make_shared<Packed>(*packed_);
      const int64_t out = p->out, in = p->in;
      p->wt.resize(static_cast<size_t>(in * kernels::gemv_transposed_ld(out)));
      p->finite =
          kernels::gemv_pack_transposed(out, in, static_cast<const float*>(w.raw_data()), ld, p->wt.data());
      p->built = true;
      if (!p->finite) p->wt = {};
      packed_ = std::move(p);
    }
    return packed_->finite ? packed_ : nullptr;
  }
  auto p = std::make_shared<Packed>();
  p->storage = w.storage();
  p->version = w.storage()->version();
  p->data = w.raw_data();
  p->out = w.shape()[0];
  p->in = w.shape()[1];
  p->ld = ld;
  packed_ = std::move(p);
  return nullptr;
}

namespace {

// The forward of linear and linear_relu; `relu` fuses max(., 0) into the output (callers only ask for it when
// no gradient is recorded). `xc_out`, when given, receives the contiguous input. `cache` (may be null) is
// only passed without gradient recording.
Tensor linear_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool relu,
                      Tensor* xc_out = nullptr, LinearWeightCache* cache = nullptr) {
  EMBER_CHECK(x.defined() && weight.defined(), ValueError, "linear: undefined input or weight");
  EMBER_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be 2-D (out_features, in_features), got ",
              weight.shape());
  EMBER_CHECK(x.dim() >= 1, ShapeError, "linear: input must have at least one dimension, got ", x.shape());
  const int64_t out = weight.shape()[0], in = weight.shape()[1];
  EMBER_CHECK(x.shape().back() == in, ShapeError, "linear: input ", x.shape(), " has ", x.shape().back(),
              " features in its last dimension but weight ", weight.shape(), " expects ", in);
  EMBER_CHECK(x.dtype() == weight.dtype(), DTypeError, "linear: input is ", dtype_name(x.dtype()),
              " but weight is ", dtype_name(weight.dtype()));
  const bool has_bias = bias.defined();
  if (has_bias) {
    EMBER_CHECK(bias.dim() == 1 && bias.shape()[0] == out, ShapeError, "linear: bias must be (", out,
                ",) to match weight ", weight.shape(), ", got ", bias.shape());
    EMBER_CHECK(bias.dtype() == x.dtype(), DTypeError, "linear: input is ", dtype_name(x.dtype()),
                " but bias is ", dtype_name(bias.dtype()));
  }
  const int64_t rows = in == 0 ? x.numel() : x.numel() / in;
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out;
  Tensor y = empty(out_shape, x.dtype());
  WeightLayout wl = weight_layout(weight);
  // One row against a row-major weight (a batch-1 layer): the matrix-vector kernel, bias and relu fused.
  Tensor xc = contiguous_data(x);
  if (xc_out) *xc_out = xc;
  if (rows == 1 && wl.trans) {
    Tensor bc = has_bias && !bias.is_contiguous() ? contiguous_data(bias) : bias;
    if (cache && x.dtype() == DType::Float32 && out * in >= kPackedMin && out * in <= kPackedMax) {
      if (auto p = cache->get(wl.w, wl.ld)) {
        if (kernels::gemv_transposed_skip_zeros(
                out, in, p->wt.data(), static_cast<const float*>(xc.raw_data()),
                has_bias ? static_cast<const float*>(bc.raw_data()) : nullptr, relu, y.data<float>()))
          return y;
      }
    }
    dispatch_floating(x.dtype(), "linear", [&](auto tag) {
      using T = decltype(tag);
      kernels::gemv(out, in, static_cast<const T*>(wl.w.raw_data()), wl.ld,
                    static_cast<const T*>(xc.raw_data()),
                    has_bias ? static_cast<const T*>(bc.raw_data()) : nullptr, relu, y.data<T>());
    });
    return y;
  }
  dispatch_floating(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    T* py = y.data<T>();
    T beta = T(0);
    if (has_bias) {
      // The bias is written first and the GEMM accumulates onto it (beta = 1): no separate pass over y.
      Tensor bc = contiguous_data(bias);
      const T* pb = bc.data<T>();
      for (int64_t i = 0; i < rows; ++i) std::memcpy(py + i * out, pb, sizeof(T) * out);
      beta = T(1);
    }
    if (rows * out == 0) return;
    if (in == 0) {
      if (!has_bias) std::memset(py, 0, sizeof(T) * rows * out);
    } else {
      kernels::gemm(false, wl.trans, rows, out, in, T(1), static_cast<const T*>(xc.raw_data()), in,
                    static_cast<const T*>(wl.w.raw_data()), wl.ld, beta, py, out);
    }
    if (relu) {
      // v < 0 ? 0 : v keeps NaN, as relu does.
      const int64_t n = rows * out;
      parallel_for(0, n, 32768, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) py[i] = py[i] < T(0) ? T(0) : py[i];
      });
    }
  });
  return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, LinearWeightCache* cache) {
  Tensor xc;
  const bool has_bias = bias.defined();
  const bool grad = has_bias ? autograd::any_requires_grad({&x, &weight, &bias})
                             : autograd::any_requires_grad({&x, &weight});
  Tensor y = linear_forward(x, weight, bias, false, &xc, grad ? nullptr : cache);
  if (grad) {
    const int64_t in = weight.shape()[1];
    const int64_t rows = in == 0 ? x.numel() : x.numel() / in;
    auto n = std::make_shared<LinearBackward>();
    n->x = SavedTensor(as_strided(xc, Shape{rows, in}, Shape{in, 1}, xc.offset()));
    n->w = SavedTensor(weight);
    n->has_bias = has_bias;
    n->x_shape = x.shape();
    if (has_bias) {
      autograd::record(n, {&x, &weight, &bias}, y);
    } else {
      autograd::record(n, {&x, &weight}, y);
    }
  }
  return y;
}

Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, LinearWeightCache* cache) {
  const bool grad = bias.defined() ? autograd::any_requires_grad({&x, &weight, &bias})
                                   : autograd::any_requires_grad({&x, &weight});
  if (grad) return relu(linear(x, weight, bias));
  return linear_forward(x, weight, bias, true, nullptr, cache);
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  EMBER_CHECK(x.defined(), ValueError, "dropout: undefined input");
  EMBER_CHECK(p >= 0.0 && p <= 1.0, ValueError, "dropout: probability must be in [0, 1], got ", p);
  EMBER_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
              "dropout: expected a floating-point tensor, got ", dtype_name(x.dtype()));
  if (!training) return x;
  if (p == 0.0) return clone(x);
  Generator& g = gen ? *gen : default_generator();
  Tensor xc = contiguous_data(x);
  const int64_t n = x.numel();
  Tensor mask = empty(x.shape(), DType::Bool);
  bool* pm = mask.data<bool>();
  // One draw from the generator keys the whole mask (kernels/random.h: the same mask for any thread count).
  kernels::bernoulli_keep(g.next_u64(), p, pm, n);
  const double scale = p == 1.0 ? 0.0 : 1.0 / (1.0 - p);
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(xc.raw_data());
    T* py = y.data<T>();
    const T s = static_cast<T>(scale);
    parallel_for(0, n, 32768, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) py[i] = pm[i] ? px[i] * s : T(0);
    });
  });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<DropoutBackward>();
    node->mask = SavedTensor(mask);
    node->scale = scale;
    autograd::record(node, {&x}, y);
  }
  return y;
}

}  // namespace ember
