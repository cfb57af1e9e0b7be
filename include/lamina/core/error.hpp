#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace lamina {

/// Base of every exception lamina throws on bad input or misuse.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// Shapes that do not fit together (broadcasting, matmul, reshape, layer inputs).
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A value outside its allowed range (an axis, an index, a label, an option).
class ValueError : public Error {
 public:
  using Error::Error;
};

namespace detail {

/// Concatenates the streamable arguments into one string.
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace detail

/// Throws `E` with the concatenated message unless `condition` holds. The message
/// should start with the op or layer name and include the shapes or values involved.
template <class E = Error, class... Args>
void check(bool condition, const Args&... message) {
  if (!condition) throw E(detail::cat(message...));
}

}  // namespace lamina
