#pragma once

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "lamina/core/shape.hpp"

namespace lamina::detail {

/// The index of the first value among `n` at `data` that is infinite or NaN, or -1 when all are
/// finite. The common case (all finite) is one vectorised pass: x - x is 0 for every finite x
/// and NaN for inf and NaN, so a block's sum of x - x is 0 exactly when the block is finite
/// (Eigen's packet reduction; no -ffast-math is assumed anywhere in lamina). Only a block that
/// fails is searched value by value.
template <class T>
index_t first_non_finite(const T* data, index_t n) {
  constexpr index_t kBlock = 4096;  // 16 KB of float: stays in L1 for the scalar search
  for (index_t begin = 0; begin < n; begin += kBlock) {
    const index_t count = std::min(kBlock, n - begin);
    const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> block(data + begin, count);
    if ((block - block).sum() == T(0)) [[likely]]
      continue;
    for (index_t i = begin; i < begin + count; ++i)
      if (!std::isfinite(data[i])) return i;
  }
  return -1;
}

/// Whether all `n` values at `data` are finite (see first_non_finite).
template <class T>
bool all_finite(const T* data, index_t n) {
  return first_non_finite(data, n) < 0;
}

}  // namespace lamina::detail
