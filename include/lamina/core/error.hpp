#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
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

/// A file that cannot be read or written, or whose contents are not what they should be
/// (missing, truncated, wrong magic number, sizes that disagree). The message names the file.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A loss or gradient that became infinite or NaN during training, or non-finite values in data
/// that must be finite. Training throws it before the optimizer step, so the weights are left as
/// they were before the step that failed.
class NonFiniteError : public Error {
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

/// A message argument as fail() takes it: string literals as const char*, so that messages
/// differing only in the length of their literals share one instantiation of fail and cat.
template <class A>
decltype(auto) message_arg(const A& a) {
  if constexpr (std::is_array_v<A>)
    return static_cast<const char*>(a);
  else
    return (a);
}

/// Throws `E` with the concatenated message. Out of line and cold: the message is built only on
/// failure, and its stream code stays out of the kernels that check their inputs.
template <class E, class... Args>
[[noreturn, gnu::cold, gnu::noinline]] void fail(const Args&... message) {
  throw E(cat(message...));
}

}  // namespace detail

/// Throws `E` with the concatenated message unless `condition` holds. The message
/// should start with the op or layer name and include the shapes or values involved.
template <class E = Error, class... Args>
void check(bool condition, const Args&... message) {
  if (!condition) [[unlikely]]
    detail::fail<E>(detail::message_arg(message)...);
}

}  // namespace lamina
