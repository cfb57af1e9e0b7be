#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// Fan-in and fan-out of a weight shape, as Keras computes them: a Dense kernel [in, out] has
/// fans (in, out); a convolution kernel [kh, kw, in, out] has (kh*kw*in, kh*kw*out).
inline std::pair<double, double> compute_fans(const Shape& shape) {
  if (shape.rank() == 0) return {1.0, 1.0};
  if (shape.rank() == 1) return {double(shape[0]), double(shape[0])};
  double receptive = 1.0;
  for (int i = 0; i + 2 < shape.rank(); ++i) receptive *= double(shape[i]);
  return {double(shape[shape.rank() - 2]) * receptive, double(shape[shape.rank() - 1]) * receptive};
}

/// The initializer names `initialize` accepts (Keras names).
inline const std::vector<std::string>& initializer_names() {
  static const std::vector<std::string> names = {
      "zeros",      "ones",          "glorot_uniform", "glorot_normal",
      "he_uniform", "he_normal",     "lecun_uniform",  "lecun_normal",
      "orthogonal", "random_normal", "random_uniform", "uniform"};
  return names;
}

namespace detail {

/// Normal draws re-drawn until within two standard deviations (Keras's TruncatedNormal).
template <class T>
Tensor<T> truncated_normal(const Shape& shape, double stddev, Generator& gen) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (T& v : t) {
    double z = gen.normal();
    while (std::abs(z) > 2.0) z = gen.normal();
    v = static_cast<T>(z * stddev);
  }
  return t;
}

/// Keras's Orthogonal(gain=1): the Q of a QR decomposition of a normal matrix, with the signs
/// of R's diagonal folded in so that the result is uniformly distributed.
template <class T>
Tensor<T> orthogonal(const Shape& shape, Generator& gen) {
  check<ShapeError>(shape.rank() >= 2, "orthogonal initializer: needs a shape of rank >= 2, got ",
                    shape);
  const index_t cols = shape[shape.rank() - 1];
  const index_t rows = shape.numel() / cols;
  const index_t r = std::max(rows, cols), c = std::min(rows, cols);
  // Column j of the r x c normal matrix at q[j * r]. Gram-Schmidt, each column orthogonalised
  // twice against the ones before it ("twice is enough", Giraud et al. 2005), gives the Q whose R
  // has a positive diagonal: the signs Keras folds in, without instantiating Eigen's QR.
  std::vector<double> q(static_cast<std::size_t>(r * c));
  for (index_t i = 0; i < r; ++i)
    for (index_t j = 0; j < c; ++j) q[static_cast<std::size_t>(j * r + i)] = gen.normal();
  for (index_t j = 0; j < c; ++j) {
    double* const qj = q.data() + j * r;
    for (int pass = 0; pass < 2; ++pass) {
      for (index_t k = 0; k < j; ++k) {
        const double* const qk = q.data() + k * r;
        const double dot = std::inner_product(qk, qk + r, qj, 0.0);
        for (index_t i = 0; i < r; ++i) qj[i] -= dot * qk[i];
      }
    }
    const double norm = std::sqrt(std::inner_product(qj, qj + r, qj, 0.0));
    for (index_t i = 0; i < r; ++i) qj[i] /= norm;
  }
  // Element (i, j) of the result: Q(i, j), or Q(j, i) when the shape is wide.
  const auto at = [&](index_t i, index_t j) {
    return rows >= cols ? q[static_cast<std::size_t>(j * r + i)]
                        : q[static_cast<std::size_t>(i * r + j)];
  };
  Tensor<T> t = Tensor<T>::empty(shape);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) t.data()[i * cols + j] = static_cast<T>(at(i, j));
  return t;
}

}  // namespace detail

/// A tensor of `shape` drawn by the Keras initializer `name` from `gen`:
/// glorot_uniform U(±sqrt(6/(fan_in+fan_out))) and glorot_normal (Glorot & Bengio 2010),
/// he_uniform U(±sqrt(6/fan_in)) and he_normal (He et al. 2015), lecun_* (LeCun et al. 1998),
/// orthogonal (Saxe et al. 2014), random_normal N(0, 0.05), random_uniform U(±0.05) (also
/// called "uniform", Keras's alias, Embedding's default), zeros, ones.
/// The *_normal ones are truncated at two standard deviations, as in Keras.
template <class T>
Tensor<T> initialize(const std::string& name, const Shape& shape, Generator& gen) {
  const auto [fan_in, fan_out] = compute_fans(shape);
  // Keras scales a truncated normal's stddev by 1/0.8796 so the truncated draw keeps it.
  constexpr double truncation = 0.87962566103423978;
  const auto uniform = [&](double limit) {
    return Tensor<T>::uniform(shape, T(-limit), T(limit), gen);
  };
  if (name == "zeros") return Tensor<T>::zeros(shape);
  if (name == "ones") return Tensor<T>::ones(shape);
  if (name == "glorot_uniform") return uniform(std::sqrt(6.0 / (fan_in + fan_out)));
  if (name == "glorot_normal")
    return detail::truncated_normal<T>(shape, std::sqrt(2.0 / (fan_in + fan_out)) / truncation,
                                       gen);
  if (name == "he_uniform") return uniform(std::sqrt(6.0 / fan_in));
  if (name == "he_normal")
    return detail::truncated_normal<T>(shape, std::sqrt(2.0 / fan_in) / truncation, gen);
  if (name == "lecun_uniform") return uniform(std::sqrt(3.0 / fan_in));
  if (name == "lecun_normal")
    return detail::truncated_normal<T>(shape, std::sqrt(1.0 / fan_in) / truncation, gen);
  if (name == "orthogonal") return detail::orthogonal<T>(shape, gen);
  if (name == "random_normal") return Tensor<T>::normal(shape, T(0), T(0.05), gen);
  if (name == "random_uniform" || name == "uniform") return uniform(0.05);
  std::string valid;
  for (const std::string& n : initializer_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw ValueError("unknown initializer '" + name + "'; valid names: " + valid);
}

}  // namespace lamina
