// "(a, b)" for a Pair in layer descriptions and error messages (src/nn only).
#pragma once

#include <string>

#include "ember/ops/conv.h"

namespace ember::nn::detail {

// Appends instead of "(" + std::string: GCC 12 reports a false -Wrestrict on that inlined operator+.
inline std::string pair_str(Pair p) {
  std::string s = "(";
  s += std::to_string(p[0]);
  s += ", ";
  s += std::to_string(p[1]);
  s += ')';
  return s;
}

}  // namespace ember::nn::detail
