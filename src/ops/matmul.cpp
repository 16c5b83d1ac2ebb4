// matmul: 2-D, batched, with broadcasting of batch dimensions, 1-D operands promoted like torch.matmul.
// Transposed views are passed to the GEMM as transpose flags instead of being copied.
#include <algorithm>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

// How a matrix (the last two dims of a tensor) can be fed to GEMM without copying.
struct MatLayout {
  bool trans = false;
  int64_t ld = 0;
};

bool gemm_layout(const Tensor& t, MatLayout& l) {
  int64_t r = t.dim();
  int64_t rows = t.shape()[r - 2], cols = t.shape()[r - 1];
  int64_t s0 = t.strides()[r - 2], s1 = t.strides()[r - 1];
  if ((s1 == 1 || cols == 1) && s0 >= std::max<int64_t>(cols, 1)) {
    l = {false, std::max<int64_t>(s0, 1)};
    return true;
  }
  if ((s0 == 1 || rows == 1) && s1 >= std::max<int64_t>(rows, 1)) {
    l = {true, std::max<int64_t>(s1, 1)};
    return true;
  }
  return false;
}

Tensor matmul_nd(const Tensor& a_in, const Tensor& b_in) {
  const Shape& as = a_in.shape();
  const Shape& bs = b_in.shape();
  int64_t m = as[as.size() - 2], k = as.back(), k2 = bs[bs.size() - 2], n = bs.back();
  EMBER_CHECK(k == k2, ShapeError, "matmul: shapes ", as, " and ", bs, " cannot be multiplied (", k, " != ", k2, ")");
  Shape a_batch(as.data(), as.size() - 2), b_batch(bs.data(), bs.size() - 2);
  Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  int64_t nb = batch.numel();
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = empty(out_shape, a_in.dtype());

  Tensor a = a_in, b = b_in;
  MatLayout la, lb;
  if (!gemm_layout(a, la)) {
    a = contiguous_data(a);
    gemm_layout(a, la);
  }
  if (!gemm_layout(b, lb)) {
    b = contiguous_data(b);
    gemm_layout(b, lb);
  }
  // (B..., M, K) @ (K, N) with a's batch contiguous over rows: one big GEMM.
  bool fold = b.dim() == 2 && !la.trans && a.is_contiguous();
  dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = out.data<T>();
    if (fold) {
      kernels::gemm(false, lb.trans, nb * m, n, k, T(1), pa, la.ld, pb, lb.ld, T(0), po, n);
      return;
    }
    // Batch offsets by broadcasting batch indices.
    Shape abs = Shape::filled(batch.size(), 0), bbs = Shape::filled(batch.size(), 0);
    for (size_t i = 0; i < a_batch.size(); ++i) {
      size_t d = batch.size() - a_batch.size() + i;
      abs[d] = a_batch[i] == 1 ? 0 : a.strides()[i];
    }
    for (size_t i = 0; i < b_batch.size(); ++i) {
      size_t d = batch.size() - b_batch.size() + i;
      bbs[d] = b_batch[i] == 1 ? 0 : b.strides()[i];
    }
    auto run = [&](int64_t lo, int64_t hi) {
      for (int64_t bi = lo; bi < hi; ++bi) {
        int64_t rem = bi, oa = 0, ob = 0;
        for (size_t d = batch.size(); d-- > 0;) {
          int64_t idx = rem % batch[d];
          rem /= batch[d];
          oa += idx * abs[d];
          ob += idx * bbs[d];
        }
        kernels::gemm(la.trans, lb.trans, m, n, k, T(1), pa + oa, la.ld, pb + ob, lb.ld, T(0),
                      po + bi * m * n, n);
      }
    };
    // Small matrices: one GEMM per thread over a static split of the batch (the GEMM then runs
    // single-threaded inside the parallel region), instead of forking all threads for every small GEMM in
    // turn. Measured 32 x 64^3 in bench/micro. Large matrices keep the GEMM's own threading unless the batch
    // alone fills the threads.
    int nt = num_threads();
    bool over_batch = nb >= nt && (m * n * k <= (int64_t{1} << 21) || nb >= 4 * nt);
    if (over_batch)
      parallel_for(0, nb, 1, run);
    else
      run(0, nb);
  });
  return out;
}

struct MatmulBackward : autograd::Node {
  SavedTensor a, b;
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor& x = a.get(this);
    const Tensor& y = b.get(this);
    Tensor ga, gb;
    if (next_edges[0].fn) ga = sum_to(matmul_nd(g, transpose(y, -1, -2)), x.shape());
    if (next_edges[1].fn) {
      if (y.dim() == 2 && x.dim() > 2) {
        // Fold the batch: (B*M, K)^T @ (B*M, N) in one GEMM.
        Tensor x2 = reshape(x, {-1, x.shape().back()});
        Tensor g2 = reshape(g, {-1, g.shape().back()});
        gb = matmul_nd(transpose(x2, 0, 1), g2);
      } else {
        gb = sum_to(matmul_nd(transpose(x, -1, -2), g), y.shape());
      }
    }
    return {ga, gb};
  }
  void release_saved() override {
    a.reset();
    b.reset();
  }
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a.defined() && b.defined(), ValueError, "matmul: undefined tensor");
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError, "matmul: both operands need at least one dimension, got ",
              a.shape(), " and ", b.shape());
  EMBER_CHECK(a.dtype() == b.dtype(), DTypeError, "matmul: operands have different dtypes ", dtype_name(a.dtype()),
              " and ", dtype_name(b.dtype()));
  if (a.dim() == 1 || b.dim() == 1) {
    Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
    Tensor b2 = b.dim() == 1 ? unsqueeze(b, -1) : b;
    Tensor r = matmul(a2, b2);
    if (b.dim() == 1) r = squeeze(r, -1);
    if (a.dim() == 1) r = squeeze(r, a.dim() == 1 && b.dim() == 1 ? 0 : -2);
    return r;
  }
  Tensor out = matmul_nd(a, b);
  if (autograd::any_requires_grad({&a, &b})) {
    auto n = std::make_shared<MatmulBackward>();
    n->a = SavedTensor(a);
    n->b = SavedTensor(b);
    autograd::record(n, {&a, &b}, out);
  }
  return out;
}

}  // namespace ember
