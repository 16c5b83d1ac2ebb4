#include "ember/kernels/loops.h"

namespace ember::kernels {

Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  size_t n = shape.size(), r = t.shape().size();
  Shape s = Shape::filled(n, 0);
  for (size_t i = 0; i < r; ++i) {
    size_t d = n - r + i;
    s[d] = t.shape()[i] == 1 && shape[d] != 1 ? 0 : t.strides()[i];
  }
  return s;
}

}  // namespace ember::kernels
