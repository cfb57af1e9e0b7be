#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/gradcheck.hpp"
#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

namespace detail {

/// Throws ValueError, naming `who`, the value, its position and input_dim, unless every value of
/// `indices` is an integer in [0, input_dim).
template <class T>
void check_indices(const std::string& who, const Tensor<T>& indices, index_t input_dim) {
  const T* v = indices.data();
  for (index_t k = 0; k < indices.size(); ++k) {
    const double x = static_cast<double>(v[k]);
    if (x >= 0 && x < static_cast<double>(input_dim) && x == std::floor(x)) continue;
    const Shape at(unravel(k, indices.shape()));
    if (std::isfinite(x) && x == std::floor(x))
      fail<ValueError>(who, ": index ", x, " at ", at, " is out of range for input_dim ", input_dim,
                       " (valid: 0 to ", input_dim - 1, ")");
    fail<ValueError>(who, ": index ", x, " at ", at, " is not an integer (input_dim ", input_dim,
                     ")");
  }
}

/// The embedding op, its errors naming `who`.
template <class T>
Variable<T> embedding(const Variable<T>& indices, const Variable<T>& table,
                      const std::string& who) {
  check<ShapeError>(table.rank() == 2, who, ": the table must be [input_dim, output_dim], got ",
                    table.shape());
  const index_t input_dim = table.dim(0), dim = table.dim(1), n = indices.size();
  check_indices(who, indices.value(), input_dim);
  std::vector<index_t> out_dims = indices.shape().dims();
  out_dims.push_back(dim);
  Tensor<T> y = Tensor<T>::empty(Shape(std::move(out_dims)));
  std::vector<index_t> rows(static_cast<std::size_t>(n));
  for (index_t k = 0; k < n; ++k) {
    rows[static_cast<std::size_t>(k)] = static_cast<index_t>(indices.value().data()[k]);
    std::copy_n(table.value().data() + rows[static_cast<std::size_t>(k)] * dim, dim,
                y.data() + k * dim);
  }
  return Variable<T>::from_op("embedding", std::move(y), {table},
                              [rows = std::move(rows), shape = table.shape(), dim](
                                  const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // y[k] = table[rows[k]]: d table[i] = the sum of g[k] over the k
                                // with rows[k] = i, added in the order of k (a scatter-add with a
                                // fixed order, so the bits never vary). The indices are integers
                                // and get no gradient.
                                Tensor<T> dt(shape);
                                for (std::size_t k = 0; k < rows.size(); ++k) {
                                  T* dst = dt.data() + rows[k] * dim;
                                  const T* src = g.data() + static_cast<index_t>(k) * dim;
                                  for (index_t j = 0; j < dim; ++j) dst[j] += src[j];
                                }
                                grads.add(0, std::move(dt));
                              });
}

}  // namespace detail

/// Rows of `table` picked by integer indices (Keras's Embedding lookup): indices [...] holding
/// integer values in [0, input_dim) as T; table [input_dim, output_dim]; returns
/// [..., output_dim]. The table's gradient is a scatter-add in a fixed order; the indices get
/// none. A value that is not an integer in range is a ValueError naming it and its position.
template <class T>
Variable<T> embedding(const Variable<T>& indices, const Variable<T>& table) {
  return detail::embedding(indices, table, "embedding");
}

}  // namespace lamina
