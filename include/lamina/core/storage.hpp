#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

#include "lamina/core/shape.hpp"

namespace lamina::detail {

/// Alignment of every tensor buffer: one cache line, enough for AVX-512 loads.
inline constexpr std::size_t kAlignment = 64;

/// An owning, 64-byte aligned, uninitialised buffer of `n` values of T.
template <class T>
class Storage {
 public:
  explicit Storage(index_t n) : size_(n) {
    if (n > 0) {
      const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
      data_ = static_cast<T*>(::operator new (bytes, std::align_val_t{kAlignment}));
    }
  }
  ~Storage() {
    if (data_) ::operator delete (data_, std::align_val_t{kAlignment});
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  index_t size_ = 0;
};

}  // namespace lamina::detail
