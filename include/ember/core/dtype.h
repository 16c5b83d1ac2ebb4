// Element types. Float32 is the compute type; Float64 exists so that gradients can be checked against finite
// differences in double precision; Int64 holds indices and labels; Bool holds masks and comparison results.
// A 16-bit float (bf16) would be one more enumerator plus kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ember {

enum class DType : uint8_t { Float32, Float64, Int64, Bool };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}
constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
const char* dtype_name(DType t);

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <typename T> inline constexpr DType dtype_of_v = dtype_of<T>::value;

}  // namespace ember
