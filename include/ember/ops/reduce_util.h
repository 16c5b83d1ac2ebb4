// Helpers shared by the reduction ops (internal to the ops layer).
#pragma once

#include <vector>

#include "ember/core/tensor.h"

namespace ember {

// Sorted, non-negative, unique axes; an empty list means all axes.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const char* op);
// `shape` with the reduced axes set to 1 / removed.
Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& axes);
Shape dropdim_shape(const Shape& shape, const std::vector<int64_t>& axes);
// Broadcasts a reduction's gradient (keepdim or not) back over the reduced axes of `input_shape`.
Tensor expand_reduced_grad(const Tensor& g, const Shape& input_shape, const std::vector<int64_t>& axes);

}  // namespace ember
