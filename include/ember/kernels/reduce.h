// Reduction kernels (no autograd). Inputs may be strided; outputs are new contiguous tensors.
#pragma once

#include "ember/core/tensor.h"

namespace ember::kernels {

// Sum over the sorted, normalised `axes`; the result keeps reduced axes with size 1.
Tensor sum_keepdim(const Tensor& x, const std::vector<int64_t>& axes);

// Splits a contiguous shape around `axis` into (outer, n, inner).
void split_around(const Shape& shape, int64_t axis, int64_t& outer, int64_t& n, int64_t& inner);

}  // namespace ember::kernels
