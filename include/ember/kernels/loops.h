// Elementwise loop templates shared by the op families: broadcasting, strided inputs, a vectorisable inner
// loop for the contiguous cases, and parallel execution for large tensors. No autograd here.
//
//   Tensor y = kernels::map1<float>(x, DType::Float32, [](float v) { return v > 0 ? v : 0; });
//   Tensor z = kernels::map2<T, T, T>(a, b, a.dtype(), "add", [](T x, T y) { return x + y; });
#pragma once

#include <array>
#include <cstdint>

#include "ember/core/tensor.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

// Below this many elements a loop runs on one thread (the OpenMP fork costs more than it saves).
inline constexpr int64_t kParallelGrain = 1 << 15;

// Strides of `t` broadcast to `shape`, right-aligned, 0 along dimensions that `t` repeats.
Shape broadcast_strides(const Tensor& t, const Shape& shape);

namespace detail {
// Walks the rows (last dimension) of `shape` in [row_lo, row_hi), passing the element offset of each input's
// row start to f(offsets).
template <size_t N, typename F>
void for_each_row(const Shape& shape, const std::array<const int64_t*, N>& strides, std::array<int64_t, N> base,
                  int64_t row_lo, int64_t row_hi, F&& f) {
  size_t r = shape.size();
  if (r <= 1) {
    if (row_lo < row_hi) f(base);
    return;
  }
  // Decompose row_lo into a multi-index over the outer dimensions.
  int64_t idx[64];
  int64_t* index = r - 1 <= 64 ? idx : new int64_t[r - 1];
  int64_t rem = row_lo;
  std::array<int64_t, N> off = base;
  for (size_t d = r - 1; d-- > 0;) {
    index[d] = rem % shape[d];
    rem /= shape[d];
    for (size_t k = 0; k < N; ++k) off[k] += index[d] * strides[k][d];
  }
  for (int64_t row = row_lo; row < row_hi; ++row) {
    f(off);
    for (size_t d = r - 1; d-- > 0;) {
      if (++index[d] < shape[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= (shape[d] - 1) * strides[k][d];
      index[d] = 0;
    }
  }
  if (index != idx) delete[] index;
}
}  // namespace detail

// out[i] = f(a[i]) over any strided `a`; the result is a new contiguous tensor of `out_dtype`.
template <typename TO, typename TA, typename F>
Tensor map1(const Tensor& a, DType out_dtype, F f) {
  Tensor out = empty(a.shape(), out_dtype);
  TO* po = static_cast<TO*>(out.raw_data());
  const TA* pa = static_cast<const TA*>(a.raw_data());
  int64_t n = a.numel();
  if (a.is_contiguous()) {
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i]);
    });
    return out;
  }
  const Shape& shape = a.shape();
  int64_t inner = shape.empty() ? 1 : shape.back();
  int64_t rows = inner ? n / inner : 0;
  int64_t sa = shape.empty() ? 0 : a.strides().back();
  std::array<const int64_t*, 1> st{a.strides().data()};
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    int64_t row = lo;
    detail::for_each_row<1>(shape, st, {0}, lo, hi, [&](const std::array<int64_t, 1>& off) {
      const TA* x = pa + off[0];
      TO* o = po + row * inner;
      for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j * sa]);
      ++row;
    });
  });
  return out;
}

// out = f(a, b) with NumPy broadcasting; inputs may be strided. The result is new and contiguous.
template <typename TO, typename TA, typename TB, typename F>
Tensor map2(const Tensor& a, const Tensor& b, DType out_dtype, const char* op, F f) {
  Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(shape, out_dtype);
  TO* po = static_cast<TO*>(out.raw_data());
  const TA* pa = static_cast<const TA*>(a.raw_data());
  const TB* pb = static_cast<const TB*>(b.raw_data());
  int64_t n = shape.numel();
  bool ca = a.is_contiguous(), cb = b.is_contiguous();
  if (ca && cb && a.numel() == n && b.numel() == n) {
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
    return out;
  }
  if (ca && a.numel() == n && b.numel() == 1) {
    const TB s = *pb;
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], s);
    });
    return out;
  }
  if (cb && b.numel() == n && a.numel() == 1) {
    const TA s = *pa;
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(s, pb[i]);
    });
    return out;
  }
  if (n == 0) return out;
  Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  int64_t inner = shape.empty() ? 1 : shape.back();
  int64_t rows = n / inner;
  int64_t ia = shape.empty() ? 0 : sa.back(), ib = shape.empty() ? 0 : sb.back();
  std::array<const int64_t*, 2> st{sa.data(), sb.data()};
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / inner), [&](int64_t lo, int64_t hi) {
    int64_t row = lo;
    detail::for_each_row<2>(shape, st, {0, 0}, lo, hi, [&](const std::array<int64_t, 2>& off) {
      const TA* x = pa + off[0];
      const TB* y = pb + off[1];
      TO* o = po + row * inner;
      if (ia == 1 && ib == 1) {
        for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j], y[j]);
      } else if (ia == 1 && ib == 0) {
        const TB v = *y;
        for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j], v);
      } else if (ia == 0 && ib == 1) {
        const TA v = *x;
        for (int64_t j = 0; j < inner; ++j) o[j] = f(v, y[j]);
      } else {
        for (int64_t j = 0; j < inner; ++j) o[j] = f(x[j * ia], y[j * ib]);
      }
      ++row;
    });
  });
  return out;
}

// out = f(a, b, c) with broadcasting of all three (used by where() and fused backward formulas).
template <typename TO, typename TA, typename TB, typename TC, typename F>
Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c, DType out_dtype, const char* op, F f) {
  Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), op), c.shape(), op);
  Tensor out = empty(shape, out_dtype);
  TO* po = static_cast<TO*>(out.raw_data());
  const TA* pa = static_cast<const TA*>(a.raw_data());
  const TB* pb = static_cast<const TB*>(b.raw_data());
  const TC* pc = static_cast<const TC*>(c.raw_data());
  int64_t n = shape.numel();
  if (n == 0) return out;
  if (a.is_contiguous() && b.is_contiguous() && c.is_contiguous() && a.numel() == n && b.numel() == n &&
      c.numel() == n) {
    parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i], pc[i]);
    });
    return out;
  }
  Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape), sc = broadcast_strides(c, shape);
  int64_t inner = shape.empty() ? 1 : shape.back();
  int64_t rows = n / inner;
  int64_t ia = shape.empty() ? 0 : sa.back(), ib = shape.empty() ? 0 : sb.back(), ic = shape.empty() ? 0 : sc.back();
  std::array<const int64_t*, 3> st{sa.data(), sb.data(), sc.data()};
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / inner), [&](int64_t lo, int64_t hi) {
    int64_t row = lo;
    detail::for_each_row<3>(shape, st, {0, 0, 0}, lo, hi, [&](const std::array<int64_t, 3>& off) {
      TO* o = po + row * inner;
      for (int64_t j = 0; j < inner; ++j) o[j] = f(pa[off[0] + j * ia], pb[off[1] + j * ib], pc[off[2] + j * ic]);
      ++row;
    });
  });
  return out;
}

}  // namespace ember::kernels
