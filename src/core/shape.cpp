#include "ember/core/shape.h"

#include <algorithm>
#include <sstream>

#include "ember/core/error.h"

namespace ember {

void Shape::assign(const int64_t* src, size_t n) {
  if (n > capacity_) {
    release();
    heap_ = new int64_t[n];
    capacity_ = n;
  }
  if (n) std::memmove(data(), src, n * sizeof(int64_t));
  size_ = n;
}

void Shape::resize(size_t n, int64_t value) {
  if (n > capacity_) {
    size_t cap = std::max(n, capacity_ * 2);
    int64_t* fresh = new int64_t[cap];
    std::memcpy(fresh, data(), size_ * sizeof(int64_t));
    release();
    heap_ = fresh;
    capacity_ = cap;
  }
  for (size_t i = size_; i < n; ++i) data()[i] = value;
  size_ = n;
}

void Shape::insert(size_t pos, int64_t v) {
  resize(size_ + 1);
  int64_t* d = data();
  for (size_t i = size_ - 1; i > pos; --i) d[i] = d[i - 1];
  d[pos] = v;
}

void Shape::erase(size_t pos) {
  int64_t* d = data();
  for (size_t i = pos; i + 1 < size_; ++i) d[i] = d[i + 1];
  --size_;
}

std::string Shape::to_string() const {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < size_; ++i) {
    if (i) os << ", ";
    os << data()[i];
  }
  if (size_ == 1) os << ',';
  os << ')';
  return os.str();
}

Shape contiguous_strides(const Shape& shape) {
  Shape s = Shape::filled(shape.size(), 1);
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return s;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  int64_t r = std::max<int64_t>(rank, 1);
  if (axis < -r || axis >= r)
    throw IndexError(detail::concat(op, ": axis ", axis, " is out of range for a tensor of rank ", rank,
                                    " (expected ", -r, " <= axis < ", r, ")"));
  return axis < 0 ? axis + r : axis;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out = Shape::filled(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(detail::concat(op, ": shapes ", a.to_string(), " and ", b.to_string(),
                                      " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace ember
