#pragma once

#include <Eigen/Core>

#include "lamina/core/tensor.hpp"

/// Eigen views over lamina's contiguous row-major buffers, for kernels only: no Eigen type
/// appears in a public signature.
namespace lamina::detail {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

/// A rows x cols row-major matrix view of `data`.
template <class T>
MatrixMap<T> matrix(T* data, index_t rows, index_t cols) {
  return MatrixMap<T>(data, rows, cols);
}
template <class T>
ConstMatrixMap<T> matrix(const T* data, index_t rows, index_t cols) {
  return ConstMatrixMap<T>(data, rows, cols);
}
/// The whole tensor as a rows x cols matrix (rows * cols must equal its size).
template <class T>
MatrixMap<T> matrix(Tensor<T>& t, index_t rows, index_t cols) {
  return MatrixMap<T>(t.data(), rows, cols);
}
template <class T>
ConstMatrixMap<T> matrix(const Tensor<T>& t, index_t rows, index_t cols) {
  return ConstMatrixMap<T>(t.data(), rows, cols);
}
/// The whole tensor as a flat vector.
template <class T>
VectorMap<T> vector(Tensor<T>& t) {
  return VectorMap<T>(t.data(), t.size());
}
template <class T>
ConstVectorMap<T> vector(const Tensor<T>& t) {
  return ConstVectorMap<T>(t.data(), t.size());
}

/// n values at `data` as an Eigen array, for vectorised elementwise arithmetic (Eigen's own
/// SIMD sqrt and division, whatever the compiler's -fmath-errno setting).
template <class T>
ArrayMap<T> array(T* data, index_t n) {
  return ArrayMap<T>(data, n);
}
template <class T>
ConstArrayMap<T> array(const T* data, index_t n) {
  return ConstArrayMap<T>(data, n);
}

}  // namespace lamina::detail
