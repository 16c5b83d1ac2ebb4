// Comparisons (bool results, never differentiable) and logical_not. Operands of different dtypes are compared
// in the wider one (bool < int64 < float32 < float64), like PyTorch's type promotion.
#include <type_traits>

#include "ember/core/dispatch.h"
#include "ember/kernels/loops.h"
#include "ember/ops/ops.h"

namespace ember {

namespace {

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

int rank_of(DType t) {
  switch (t) {
    case DType::Bool:
      return 0;
    case DType::Int64:
      return 1;
    case DType::Float32:
      return 2;
    case DType::Float64:
      return 3;
  }
  return 0;
}

// One loop per (dtype, comparison): the comparison is a template argument, so the inner loop has no branch.
template <Cmp C, typename T>
inline bool cmp(T a, T b) {
  if constexpr (C == Cmp::Eq) return a == b;
  if constexpr (C == Cmp::Ne) return a != b;
  if constexpr (C == Cmp::Lt) return a < b;
  if constexpr (C == Cmp::Le) return a <= b;
  if constexpr (C == Cmp::Gt) return a > b;
  return a >= b;
}

template <Cmp C>
Tensor compare(const Tensor& a_in, const Tensor& b_in, const char* op) {
  EMBER_CHECK(a_in.defined() && b_in.defined(), ValueError, op, ": undefined tensor");
  Tensor a = a_in, b = b_in;
  if (a.dtype() != b.dtype()) {
    if (rank_of(a.dtype()) < rank_of(b.dtype()))
      a = copy_as(a, b.dtype());
    else
      b = copy_as(b, a.dtype());
  }
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return kernels::map2<bool, T, T>(a, b, DType::Bool, op, [](T x, T y) { return cmp<C>(x, y); });
  });
}

template <Cmp C>
Tensor compare_scalar(const Tensor& a, double b, const char* op) {
  EMBER_CHECK(a.defined(), ValueError, op, ": undefined tensor");
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      // The scalar takes the tensor's float type (float32 tensors compare against float(b), like PyTorch).
      const T s = static_cast<T>(b);
      return kernels::map1<bool, T>(a, DType::Bool, [s](T x) { return cmp<C>(x, s); });
    } else {
      return kernels::map1<bool, T>(a, DType::Bool, [b](T x) { return cmp<C>(static_cast<double>(x), b); });
    }
  });
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Eq>(a, b, "eq");
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Ne>(a, b, "ne");
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Lt>(a, b, "lt");
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Le>(a, b, "le");
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Gt>(a, b, "gt");
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare<Cmp::Ge>(a, b, "ge");
}
Tensor eq(const Tensor& a, double b) {
  return compare_scalar<Cmp::Eq>(a, b, "eq");
}
Tensor ne(const Tensor& a, double b) {
  return compare_scalar<Cmp::Ne>(a, b, "ne");
}
Tensor lt(const Tensor& a, double b) {
  return compare_scalar<Cmp::Lt>(a, b, "lt");
}
Tensor le(const Tensor& a, double b) {
  return compare_scalar<Cmp::Le>(a, b, "le");
}
Tensor gt(const Tensor& a, double b) {
  return compare_scalar<Cmp::Gt>(a, b, "gt");
}
Tensor ge(const Tensor& a, double b) {
  return compare_scalar<Cmp::Ge>(a, b, "ge");
}

Tensor logical_not(const Tensor& mask) {
  EMBER_CHECK(mask.defined(), ValueError, "logical_not: undefined tensor");
  return dispatch_all(mask.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return kernels::map1<bool, T>(mask, DType::Bool, [](T x) { return x == T(0); });
  });
}

}  // namespace ember
