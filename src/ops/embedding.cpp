// embedding: a gather of weight rows by int64 indices; the backward scatter-adds the incoming rows into a
// zeroed (V, D) gradient, skipping padding_idx.
#include <cstring>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/conv.h"

namespace ember {

namespace {

struct EmbeddingBackward : autograd::Node {
  Tensor indices;  // contiguous int64 copy owned by the node
  Shape weight_shape;
  int64_t padding_idx = -1;  // normalised; -1 = none
  const char* name() const override { return "embedding"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor g = contiguous_data(grad);
    Tensor dw = zeros(weight_shape, g.dtype());
    const int64_t d = weight_shape[1], count = indices.numel();
    const int64_t* idx = indices.data<int64_t>();
    dispatch_floating(g.dtype(), "embedding", [&](auto tag) {
      using T = decltype(tag);
      const T* gp = g.data<T>();
      T* dp = dw.data<T>();
      // Serial over indices (repeats add into the same row), vectorised over D.
      for (int64_t i = 0; i < count; ++i) {
        if (idx[i] == padding_idx) continue;
        T* row = dp + idx[i] * d;
        const T* src = gp + i * d;
        for (int64_t k = 0; k < d; ++k) row[k] += src[k];
      }
    });
    return {dw};
  }
  void release_saved() override { indices = Tensor(); }
};

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
  EMBER_CHECK(weight.defined() && indices.defined(), ValueError, "embedding: undefined weight or indices");
  EMBER_CHECK(weight.dim() == 2, ShapeError, "embedding: expected weight of shape (V, D), got ",
              weight.shape());
  EMBER_CHECK(indices.dtype() == DType::Int64, DTypeError, "embedding: indices must be int64, got ",
              dtype_name(indices.dtype()));
  const int64_t v = weight.size(0), d = weight.size(1);
  int64_t pad = -1;
  if (padding_idx) {
    pad = *padding_idx < 0 ? *padding_idx + v : *padding_idx;
    EMBER_CHECK(pad >= 0 && pad < v, IndexError, "embedding: padding_idx ", *padding_idx,
                " is out of range for a vocabulary of ", v, " rows");
  }
  Tensor idx = contiguous_data(indices);
  const int64_t count = idx.numel();
  const int64_t* ip = idx.data<int64_t>();
  for (int64_t i = 0; i < count; ++i)
    EMBER_CHECK(ip[i] >= 0 && ip[i] < v, IndexError, "embedding: index ", ip[i],
                " is out of range for a vocabulary of ", v, " rows (weight shape ", weight.shape(), ")");
  Tensor wc = contiguous_data(weight);
  Shape out_shape = indices.shape();
  out_shape.push_back(d);
  Tensor out = empty(out_shape, weight.dtype());
  dispatch_floating(weight.dtype(), "embedding", [&](auto tag) {
    using T = decltype(tag);
    const T* wp = wc.data<T>();
    T* op = out.data<T>();
    parallel_for(0, count, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t i = lo; i < hi; ++i) std::memcpy(op + i * d, wp + ip[i] * d, sizeof(T) * d);
                 });
  });
  if (autograd::any_requires_grad({&weight})) {
    auto n = std::make_shared<EmbeddingBackward>();
    n->indices = copy_as(idx, DType::Int64);
    n->weight_shape = weight.shape();
    n->padding_idx = pad;
    autograd::record(n, {&weight}, out);
  }
  return out;
}

}  // namespace ember
