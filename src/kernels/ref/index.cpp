// Readable reference kernels for index.h: one element at a time through explicit multi-indices. The tests use
// them as the oracle for the fast kernels in src/kernels/cpu/index.cpp.
#include "ember/kernels/index.h"

#include <cmath>

#include "ember/core/dispatch.h"

namespace ember::kernels {

namespace {
// Row-major multi-index of flat position e in shape s.
std::vector<int64_t> unravel(int64_t e, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = e % s[d];
    e /= s[d];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t e = 0;
  for (size_t d = 0; d < s.size(); ++d) e = e * s[d] + idx[d];
  return e;
}
}  // namespace

void index_select_ref(const Tensor& x_in, int64_t axis, const Tensor& index_in, const Tensor& out) {
  Tensor x = contiguous_data(x_in), index = contiguous_data(index_in);
  const int64_t* idx = index.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    for (int64_t e = 0; e < out.numel(); ++e) {
      std::vector<int64_t> mi = unravel(e, out.shape());
      mi[axis] = idx[mi[axis]];
      po[e] = px[ravel(mi, x.shape())];
    }
  });
}

void index_add_ref(const Tensor& g_in, int64_t axis, const Tensor& index_in, const Tensor& dx) {
  Tensor g = contiguous_data(g_in), index = contiguous_data(index_in);
  const int64_t* idx = index.data<int64_t>();
  dispatch_floating(dx.dtype(), "index_add_ref", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    for (int64_t e = 0; e < g.numel(); ++e) {
      std::vector<int64_t> mi = unravel(e, g.shape());
      mi[axis] = idx[mi[axis]];
      pd[ravel(mi, dx.shape())] += pg[e];
    }
  });
}

void gather_ref(const Tensor& x_in, int64_t axis, const Tensor& index_in, const Tensor& out) {
  Tensor x = contiguous_data(x_in), index = contiguous_data(index_in);
  const int64_t* idx = index.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    for (int64_t e = 0; e < index.numel(); ++e) {
      std::vector<int64_t> mi = unravel(e, index.shape());
      mi[axis] = idx[e];
      po[e] = px[ravel(mi, x.shape())];
    }
  });
}

void scatter_add_ref(const Tensor& g_in, int64_t axis, const Tensor& index_in, const Tensor& dx) {
  Tensor g = contiguous_data(g_in), index = contiguous_data(index_in);
  const int64_t* idx = index.data<int64_t>();
  dispatch_floating(dx.dtype(), "scatter_add_ref", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    for (int64_t e = 0; e < index.numel(); ++e) {
      std::vector<int64_t> mi = unravel(e, index.shape());
      mi[axis] = idx[e];
      pd[ravel(mi, dx.shape())] += pg[e];
    }
  });
}

void minmax_axis_ref(const Tensor& x_in, int64_t axis, bool is_max, const Tensor& values,
                     const Tensor& indices) {
  Tensor x = contiguous_data(x_in);
  int64_t* pi = indices.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* pv = static_cast<T*>(values.raw_data());
    const int64_t n = x.shape()[axis];
    for (int64_t e = 0; e < values.numel(); ++e) {
      std::vector<int64_t> mi = unravel(e, values.shape());
      int64_t best = 0;
      for (int64_t k = 0; k < n; ++k) {
        mi[axis] = k;
        T v = px[ravel(mi, x.shape())];
        mi[axis] = best;
        T b = px[ravel(mi, x.shape())];
        bool v_nan = v != v, b_nan = b != b;
        if (b_nan) break;  // the first NaN is the answer
        if (v_nan || (is_max ? v > b : v < b)) best = k;
      }
      mi[axis] = best;
      pv[e] = px[ravel(mi, x.shape())];
      pi[e] = best;
    }
  });
}

}  // namespace ember::kernels
