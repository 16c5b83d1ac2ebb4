// Dispatch on a tensor's dtype to a generic lambda: the lambda receives a value of the element type, so its
// body can say `using T = decltype(tag);`.
//
//   dispatch_floating(t.dtype(), "relu", [&](auto tag) { using T = decltype(tag); relu_kernel<T>(...); });
#pragma once

#include "ember/core/dtype.h"
#include "ember/core/error.h"

namespace ember {

template <typename F>
decltype(auto) dispatch_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default:
      throw DTypeError(detail::concat(op, ": expected a floating-point tensor (float32 or float64), got ",
                                      dtype_name(dt)));
  }
}

template <typename F>
decltype(auto) dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::Bool: return f(bool{});
  }
  return f(float{});
}

}  // namespace ember
