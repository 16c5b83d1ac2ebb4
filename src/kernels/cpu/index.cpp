// Fast kernels for joining, indexing and arg-reductions along an axis. Work is split statically over disjoint
// output regions, so results (including the order of accumulation in the scatter kernels) do not depend on
// the thread count.
#include "ember/kernels/index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/kernels/reduce.h"

namespace ember::kernels {

namespace {

// Offsets into a contiguous tensor of shape `xs` of every multi-index of `is[lo..hi)` (the other dimensions
// 0).
std::vector<int64_t> sub_offsets(const Shape& is, const Shape& xs, size_t lo, size_t hi) {
  Shape xst = contiguous_strides(xs);
  int64_t count = 1;
  for (size_t d = lo; d < hi; ++d) count *= is[d];
  std::vector<int64_t> off(count, 0);
  for (int64_t e = 0; e < count; ++e) {
    int64_t rem = e, o = 0;
    for (size_t d = hi; d-- > lo;) {
      o += (rem % is[d]) * xst[d];
      rem /= is[d];
    }
    off[e] = o;
  }
  return off;
}

// Calls f(o_lo, o_hi, i_lo, i_hi) over an (outer, inner) grid whose rows are independent and whose columns
// are independent: split over rows when there are enough of them, otherwise over columns.
template <typename F>
void split_grid(int64_t outer, int64_t inner, int64_t work_per_cell, F f) {
  int64_t cell = std::max<int64_t>(work_per_cell, 1);
  if (outer >= 4 * num_threads() || inner < 64) {
    parallel_for(0, outer, std::max<int64_t>(1, kParallelGrain / (cell * std::max<int64_t>(inner, 1))),
                 [&](int64_t lo, int64_t hi) { f(lo, hi, int64_t{0}, inner); });
  } else {
    parallel_for(0, inner, std::max<int64_t>(1, kParallelGrain / (cell * std::max<int64_t>(outer, 1))),
                 [&](int64_t lo, int64_t hi) { f(int64_t{0}, outer, lo, hi); });
  }
}

// Replace the current best by v? For max: v > best, or v is the first NaN (NaN wins; the first one stays).
template <typename T>
inline bool better(T v, T best, bool is_max) {
  return (is_max ? !(v <= best) : !(v >= best)) && best == best;
}

// Index of the first max/min of a run without NaN, in two vectorisable passes (the extremum over 16 lanes,
// then the first position holding it); -1 when the run holds a NaN (the caller then scans for it).
template <typename T>
int64_t first_extremum(const T* p, int64_t n, bool is_max) {
  constexpr int L = 16;
  T acc[L];
  for (int j = 0; j < L; ++j) acc[j] = p[0];
  bool nan = false;
  int64_t k = 0;
  if (is_max) {
    for (; k + L <= n; k += L)
      for (int j = 0; j < L; ++j) {
        T v = p[k + j];
        nan |= v != v;
        acc[j] = v > acc[j] ? v : acc[j];
      }
  } else {
    for (; k + L <= n; k += L)
      for (int j = 0; j < L; ++j) {
        T v = p[k + j];
        nan |= v != v;
        acc[j] = v < acc[j] ? v : acc[j];
      }
  }
  T best = acc[0];
  for (int j = 1; j < L; ++j) best = is_max ? std::max(best, acc[j]) : std::min(best, acc[j]);
  for (; k < n; ++k) {
    nan |= p[k] != p[k];
    best = is_max ? std::max(best, p[k]) : std::min(best, p[k]);
  }
  if (nan) return -1;
  for (k = 0; k < n; ++k)
    if (p[k] == best) return k;
  return -1;
}

}  // namespace

void concat_into(const std::vector<Tensor>& xs, const std::vector<int64_t>& sizes, int64_t axis,
                 const Tensor& out) {
  int64_t outer, total, inner;
  split_around(out.shape(), axis, outer, total, inner);
  const size_t es = dtype_size(out.dtype());
  std::vector<Tensor> src(xs.size());
  std::vector<const char*> ptr(xs.size(), nullptr);
  for (size_t k = 0; k < xs.size(); ++k)
    if (xs[k].defined()) {
      src[k] = contiguous_data(xs[k]);
      ptr[k] = static_cast<const char*>(src[k].raw_data());
    }
  char* po = static_cast<char*>(out.raw_data());
  const int64_t row_bytes = total * inner * static_cast<int64_t>(es);
  if (row_bytes == 0) return;
  parallel_for(0, outer, std::max<int64_t>(1, 8 * kParallelGrain / row_bytes), [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      char* dst = po + o * row_bytes;
      for (size_t k = 0; k < xs.size(); ++k) {
        size_t nb = static_cast<size_t>(sizes[k] * inner) * es;
        if (ptr[k])
          std::memcpy(dst, ptr[k] + o * nb, nb);
        else
          std::memset(dst, 0, nb);
        dst += nb;
      }
    }
  });
}

void index_select(const Tensor& x_in, int64_t axis, const Tensor& index_in, const Tensor& out) {
  Tensor x = contiguous_data(x_in), index = contiguous_data(index_in);
  int64_t outer, n, inner;
  split_around(x.shape(), axis, outer, n, inner);
  const int64_t m = index.numel();
  const int64_t* idx = index.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    parallel_for(0, outer * m, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const T* s = px + ((r / m) * n + idx[r % m]) * inner;
                     T* d = po + r * inner;
                     if (inner == 1)
                       *d = *s;
                     else
                       std::copy_n(s, inner, d);
                   }
                 });
  });
}

void index_add(const Tensor& g_in, int64_t axis, const Tensor& index_in, const Tensor& dx) {
  Tensor g = contiguous_data(g_in), index = contiguous_data(index_in);
  int64_t outer, n, inner;
  split_around(dx.shape(), axis, outer, n, inner);
  const int64_t m = index.numel();
  const int64_t* idx = index.data<int64_t>();
  dispatch_floating(dx.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    split_grid(outer, inner, m, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t j = 0; j < m; ++j) {
          T* d = pd + (o * n + idx[j]) * inner;
          const T* s = pg + (o * m + j) * inner;
          for (int64_t i = i0; i < i1; ++i) d[i] += s[i];
        }
    });
  });
}

namespace {
// Geometry shared by gather and scatter_add: the index tensor viewed as (outer, m, inner) rows, with the base
// offset into x of every outer position and the offset of every inner position.
struct GatherGeom {
  int64_t outer, m, inner, x_axis_stride;
  std::vector<int64_t> outer_off, inner_off;
  bool inner_dense;  // inner_off[k] == k
};
GatherGeom gather_geom(const Shape& xs, const Shape& is, int64_t axis) {
  GatherGeom g;
  split_around(is, axis, g.outer, g.m, g.inner);
  g.x_axis_stride = contiguous_strides(xs)[axis];
  g.outer_off = sub_offsets(is, xs, 0, axis);
  g.inner_dense = true;
  for (size_t d = axis + 1; d < is.size(); ++d) g.inner_dense = g.inner_dense && is[d] == xs[d];
  if (!g.inner_dense) g.inner_off = sub_offsets(is, xs, axis + 1, is.size());
  return g;
}
}  // namespace

void gather(const Tensor& x_in, int64_t axis, const Tensor& index_in, const Tensor& out) {
  Tensor x = contiguous_data(x_in), index = contiguous_data(index_in);
  GatherGeom geo = gather_geom(x.shape(), index.shape(), axis);
  const int64_t* idx = index.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    const int64_t m = geo.m, inner = geo.inner, sa = geo.x_axis_stride;
    parallel_for(0, geo.outer * m, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t lo, int64_t hi) {
                   if (inner == 1) {  // gathering along the last axis: one element per row
                     const int64_t* oo = geo.outer_off.data();
                     for (int64_t o = lo / m; o * m < hi; ++o) {
                       const T* xb = px + oo[o];
                       const int64_t j0 = std::max(lo, o * m), j1 = std::min(hi, (o + 1) * m);
                       for (int64_t r = j0; r < j1; ++r) po[r] = xb[idx[r] * sa];
                     }
                     return;
                   }
                   for (int64_t r = lo; r < hi; ++r) {
                     const T* xb = px + geo.outer_off[r / m];
                     const int64_t* ir = idx + r * inner;
                     T* d = po + r * inner;
                     if (geo.inner_dense)
                       for (int64_t k = 0; k < inner; ++k) d[k] = xb[ir[k] * sa + k];
                     else
                       for (int64_t k = 0; k < inner; ++k) d[k] = xb[ir[k] * sa + geo.inner_off[k]];
                   }
                 });
  });
}

void scatter_add(const Tensor& g_in, int64_t axis, const Tensor& index_in, const Tensor& dx) {
  Tensor g = contiguous_data(g_in), index = contiguous_data(index_in);
  GatherGeom geo = gather_geom(dx.shape(), index.shape(), axis);
  const int64_t* idx = index.data<int64_t>();
  dispatch_floating(dx.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    const int64_t m = geo.m, inner = geo.inner, sa = geo.x_axis_stride;
    // Distinct outer positions and distinct inner positions write disjoint parts of dx.
    split_grid(geo.outer, inner, m, [&](int64_t o0, int64_t o1, int64_t k0, int64_t k1) {
      for (int64_t o = o0; o < o1; ++o) {
        T* db = pd + geo.outer_off[o];
        for (int64_t j = 0; j < m; ++j) {
          const int64_t r = o * m + j;
          const int64_t* ir = idx + r * inner;
          const T* s = pg + r * inner;
          if (geo.inner_dense)
            for (int64_t k = k0; k < k1; ++k) db[ir[k] * sa + k] += s[k];
          else
            for (int64_t k = k0; k < k1; ++k) db[ir[k] * sa + geo.inner_off[k]] += s[k];
        }
      }
    });
  });
}

void minmax_axis(const Tensor& x_in, int64_t axis, bool is_max, const Tensor& values, const Tensor& indices) {
  Tensor x = contiguous_data(x_in);
  int64_t outer, n, inner;
  split_around(x.shape(), axis, outer, n, inner);
  int64_t* pi = indices.data<int64_t>();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* pv = static_cast<T*>(values.raw_data());
    if (inner == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t o = lo; o < hi; ++o) {
                       const T* p = px + o * n;
                       if constexpr (std::is_floating_point_v<T>) {
                         int64_t at = first_extremum(p, n, is_max);
                         if (at >= 0) {
                           pv[o] = p[at];
                           pi[o] = at;
                           continue;
                         }
                       }
                       T best = p[0];
                       int64_t bi = 0;
                       for (int64_t k = 1; k < n; ++k)
                         if (better(p[k], best, is_max)) {
                           best = p[k];
                           bi = k;
                         }
                       pv[o] = best;
                       pi[o] = bi;
                     }
                   });
      return;
    }
    // Column-wise: the running best of each column of a row block, updated one row of the axis at a time.
    split_grid(outer, inner, n, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* src = px + o * n * inner;
        T* bv = pv + o * inner;
        int64_t* bi = pi + o * inner;
        for (int64_t i = i0; i < i1; ++i) {
          bv[i] = src[i];
          bi[i] = 0;
        }
        for (int64_t k = 1; k < n; ++k) {
          const T* row = src + k * inner;
          for (int64_t i = i0; i < i1; ++i)
            if (better(row[i], bv[i], is_max)) {
              bv[i] = row[i];
              bi[i] = k;
            }
        }
      }
    });
  });
}

int64_t minmax_all_index(const Tensor& x_in, bool is_max) {
  Tensor x = contiguous_data(x_in);
  const int64_t n = x.numel();
  return dispatch_all(x.dtype(), [&](auto tag) -> int64_t {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(x.raw_data());
    // Fixed chunks, combined in order, so ties resolve to the first occurrence whatever the thread count.
    constexpr int64_t kChunks = 16;
    int64_t chunk = (n + kChunks - 1) / kChunks;
    int64_t best_at[kChunks];
    parallel_for(0, kChunks, n >= kParallelGrain ? 1 : kChunks, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        int64_t b = c * chunk, e = std::min(n, b + chunk);
        best_at[c] = b < e ? b : -1;
        for (int64_t k = b + 1; k < e; ++k)
          if (better(p[k], p[best_at[c]], is_max)) best_at[c] = k;
      }
    });
    int64_t best = best_at[0];
    for (int64_t c = 1; c < kChunks; ++c)
      if (best_at[c] >= 0 && better(p[best_at[c]], p[best], is_max)) best = best_at[c];
    return best;
  });
}

void var_axes(const Tensor& x_in, int64_t first, int64_t last, int64_t ddof, const Tensor& out,
              const Tensor& mean) {
  Tensor x = contiguous_data(x_in);
  const Shape& s = x.shape();
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < first; ++d) outer *= s[d];
  for (int64_t d = first; d <= last; ++d) n *= s[d];
  for (size_t d = last + 1; d < s.size(); ++d) inner *= s[d];
  dispatch_floating(x.dtype(), "var", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* pv = out.data<T>();
    T* pm = mean.data<T>();
    const T inv_n = T(1) / static_cast<T>(n);
    const T inv_d = T(1) / static_cast<T>(n - ddof);
    if (inner == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
                   [&](int64_t lo, int64_t hi) {
                     constexpr int L = 8;
                     for (int64_t o = lo; o < hi; ++o) {
                       const T* p = px + o * n;
                       T acc[L] = {};
                       int64_t k = 0;
                       for (; k + L <= n; k += L)
                         for (int j = 0; j < L; ++j) acc[j] += p[k + j];
                       T sum = 0;
                       for (int j = 0; j < L; ++j) sum += acc[j];
                       for (; k < n; ++k) sum += p[k];
                       const T mu = sum * inv_n;
                       T sq[L] = {};
                       k = 0;
                       for (; k + L <= n; k += L)
                         for (int j = 0; j < L; ++j) sq[j] += (p[k + j] - mu) * (p[k + j] - mu);
                       T ss = 0;
                       for (int j = 0; j < L; ++j) ss += sq[j];
                       for (; k < n; ++k) ss += (p[k] - mu) * (p[k] - mu);
                       pm[o] = mu;
                       pv[o] = ss * inv_d;
                     }
                   });
      return;
    }
    split_grid(outer, inner, n, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* src = px + o * n * inner;
        T* m = pm + o * inner;
        T* v = pv + o * inner;
        for (int64_t i = i0; i < i1; ++i) {
          m[i] = 0;
          v[i] = 0;
        }
        for (int64_t k = 0; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i) m[i] += src[k * inner + i];
        for (int64_t i = i0; i < i1; ++i) m[i] *= inv_n;
        for (int64_t k = 0; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i) {
            T d = src[k * inner + i] - m[i];
            v[i] += d * d;
          }
        for (int64_t i = i0; i < i1; ++i) v[i] *= inv_d;
      }
    });
  });
}

namespace {
template <typename T>
void select_run(const uint8_t* m, const T* a, bool a_dense, const T* b, bool b_dense, T* o, int64_t n) {
  constexpr int64_t B = 256;
  T mk[B];
  for (int64_t i0 = 0; i0 < n; i0 += B) {
    const int64_t e = std::min(n - i0, B);
    const uint8_t* mi = m + i0;
    T* oi = o + i0;
    for (int64_t j = 0; j < e; ++j) mk[j] = static_cast<T>(mi[j]);
    if (a_dense && b_dense) {
      const T* ai = a + i0;
      const T* bi = b + i0;
      for (int64_t j = 0; j < e; ++j) oi[j] = mk[j] != T(0) ? ai[j] : bi[j];
    } else if (a_dense) {
      const T* ai = a + i0;
      const T bv = *b;
      for (int64_t j = 0; j < e; ++j) oi[j] = mk[j] != T(0) ? ai[j] : bv;
    } else if (b_dense) {
      const T av = *a;
      const T* bi = b + i0;
      for (int64_t j = 0; j < e; ++j) oi[j] = mk[j] != T(0) ? av : bi[j];
    } else {
      const T av = *a, bv = *b;
      for (int64_t j = 0; j < e; ++j) oi[j] = mk[j] != T(0) ? av : bv;
    }
  }
}
}  // namespace

void select_dense(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  const uint8_t* pm = reinterpret_cast<const uint8_t*>(mask.data<bool>());
  const bool a_dense = a.numel() == n && n != 1, b_dense = b.numel() == n && n != 1;
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    if constexpr (std::is_same_v<T, bool>) {
      for (int64_t i = 0; i < n; ++i) po[i] = pm[i] ? pa[a_dense ? i : 0] : pb[b_dense ? i : 0];
    } else {
      parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
        select_run<T>(pm + lo, a_dense ? pa + lo : pa, a_dense, b_dense ? pb + lo : pb, b_dense, po + lo,
                      hi - lo);
      });
    }
  });
}

}  // namespace ember::kernels
