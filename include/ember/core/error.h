// Ember's exceptions. Every error a user can cause is one of these, with a message that names the op or
// layer, the shapes or values involved and what was expected.
//
//   try { ember::matmul(a, b); }
//   catch (const ember::ShapeError& e) { std::cerr << e.what(); }  // "matmul: ... (2, 3) and (4, 5)"
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ember {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Shapes that do not fit together (broadcasting, matmul, a layer fed the wrong input).
class ShapeError : public Error {
 public:
  using Error::Error;
};
// An axis or index out of range.
class IndexError : public Error {
 public:
  using Error::Error;
};
// A tensor of the wrong element type.
class DTypeError : public Error {
 public:
  using Error::Error;
};
// A value that is not allowed: an empty tensor, a negative size, a bad option.
class ValueError : public Error {
 public:
  using Error::Error;
};
// Misuse of automatic differentiation: backward twice through a freed graph, grad of a non-scalar, ...
class AutogradError : public Error {
 public:
  using Error::Error;
};
// A file that is missing, unreadable, truncated or not in the expected format.
class IOError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace ember

// EMBER_CHECK(cond, ShapeError, "matmul: ", a, " vs ", b): throws the given exception type when cond is false.
#define EMBER_CHECK(cond, Exc, ...)                              \
  do {                                                           \
    if (!(cond)) throw ::ember::Exc(::ember::detail::concat(__VA_ARGS__)); \
  } while (0)
