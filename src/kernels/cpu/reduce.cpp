#include "ember/kernels/reduce.h"

#include <algorithm>
#include <cstring>

#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"

namespace ember::kernels {

void split_around(const Shape& shape, int64_t axis, int64_t& outer, int64_t& n, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  n = shape[axis];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
}

namespace {

// Sum of a contiguous run, with 16 independent accumulators so that the compiler can vectorise it without
// reassociating (which it may not do for floats without -ffast-math).
template <typename T>
T sum_run(const T* p, int64_t n) {
  constexpr int L = 16;
  T acc[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) acc[j] += p[i + j];
  T s = 0;
  for (int j = 0; j < L; ++j) s += acc[j];
  for (; i < n; ++i) s += p[i];
  return s;
}

// out[o, i] = sum_k x[o, k, i] for a contiguous (outer, n, inner) block.
template <typename T>
void sum_middle(const T* x, T* out, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {
    parallel_for(0, outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) out[o] = sum_run(x + o * n, n);
    });
    return;
  }
  // Parallel over outer*inner columns blocks; each output element's sum order is fixed (k ascending).
  int64_t total = outer * inner;
  parallel_for(0, total, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo / inner; o <= (hi - 1) / inner; ++o) {
      int64_t i0 = std::max(lo, o * inner) - o * inner;
      int64_t i1 = std::min(hi, (o + 1) * inner) - o * inner;
      T* dst = out + o * inner;
      const T* src = x + o * n * inner;
      for (int64_t i = i0; i < i1; ++i) dst[i] = src[i];
      for (int64_t k = 1; k < n; ++k) {
        const T* row = src + k * inner;
        for (int64_t i = i0; i < i1; ++i) dst[i] += row[i];
      }
    }
  });
}

}  // namespace

Tensor sum_keepdim(const Tensor& x_in, const std::vector<int64_t>& axes) {
  return dispatch_floating(x_in.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    Tensor x = contiguous_data(x_in);
    Shape shape = x.shape();
    if (x.numel() == 0) {
      for (int64_t a : axes) shape[a] = 1;
      return zeros(shape, x.dtype());
    }
    // Reduce one axis at a time, last axis first, merging runs of adjacent reduced axes into one.
    std::vector<int64_t> sorted = axes;
    std::sort(sorted.begin(), sorted.end());
    Tensor cur = x;
    size_t i = sorted.size();
    while (i > 0) {
      int64_t hi = sorted[--i];
      int64_t lo = hi;
      while (i > 0 && sorted[i - 1] == lo - 1) lo = sorted[--i];
      int64_t outer = 1, n = 1, inner = 1;
      const Shape& cs = cur.shape();
      for (int64_t d = 0; d < lo; ++d) outer *= cs[d];
      for (int64_t d = lo; d <= hi; ++d) n *= cs[d];
      for (size_t d = hi + 1; d < cs.size(); ++d) inner *= cs[d];
      Shape out_shape = cs;
      for (int64_t d = lo; d <= hi; ++d) out_shape[d] = 1;
      Tensor out = empty(out_shape, x.dtype());
      sum_middle<T>(cur.data<T>(), out.data<T>(), outer, n, inner);
      cur = out;
    }
    return cur;
  });
}

}  // namespace ember::kernels
