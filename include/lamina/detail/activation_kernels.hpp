#pragma once

#include <algorithm>
#include <cmath>

#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/kernels.hpp"

// The activations' value kernels on raw buffers, and the bias-and-activation pass that conv2d,
// dense and the recurrent ops fuse into their products (with its backward): no autograd here,
// the ops in lamina/ops/activation.hpp and the fused ops call them.

namespace lamina {

namespace detail {

/// y = 1 / (1 + e^-x) without overflow: with z = e^-|x| (never above 1), 1 / (1 + z) for x >= 0
/// and z / (1 + z) for x < 0. `y` may be `x` (in place).
template <class T>
void sigmoid_values(const T* x, T* y, index_t n) {
  constexpr index_t kChunk = 256;
  T z[kChunk];
  for (index_t i0 = 0; i0 < n; i0 += kChunk) {
    const index_t m = std::min(kChunk, n - i0);
    VectorMap<T>(z, m).array() = (-ConstVectorMap<T>(x + i0, m).array().abs()).exp();
    flush_subnormals(z, m);
    for (index_t i = 0; i < m; ++i) y[i0 + i] = (x[i0 + i] >= T(0) ? T(1) : z[i]) / (T(1) + z[i]);
  }
}

template <class T>
Tensor<T> sigmoid_kernel(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  sigmoid_values(x.data(), y.data(), y.size());
  return y;
}

/// y = alpha (e^x - 1) for x <= 0, x above; `y` may be `x`.
template <class T>
void elu_values(const T* x, T* y, index_t n, T alpha) {
  constexpr index_t kChunk = 256;
  T e[kChunk];
  for (index_t i0 = 0; i0 < n; i0 += kChunk) {
    const index_t m = std::min(kChunk, n - i0);
    VectorMap<T>(e, m).array() = alpha * ConstVectorMap<T>(x + i0, m).array().expm1();
    for (index_t i = 0; i < m; ++i) y[i0 + i] = x[i0 + i] > T(0) ? x[i0 + i] : e[i];
  }
}

/// The activations that an op producing a matrix (conv2d, dense) can apply to its result in
/// place, each with its Keras default parameter: elementwise, and with a derivative that the
/// output alone determines, so the op keeps only its output for the backward. (gelu, silu and
/// mish are not monotonic or not determined by their output, so they are never fused.)
enum class Pointwise {
  linear,
  relu,
  sigmoid,
  tanh,
  leaky_relu,
  elu,
  selu,
  relu6,
  hard_sigmoid,
  softsign
};

/// The default parameters of leaky_relu (Keras 3) and elu, also used when they are fused.
inline constexpr double kLeakyReluSlope = 0.2, kEluAlpha = 1.0;
/// SELU's constants (Klambauer et al. 2017, "Self-Normalizing Neural Networks"), as Keras
/// (tf.nn.selu, jax.nn.selu) and PyTorch use them.
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;

/// 1 / (1 + e^-x) for one value, without overflow (e^-|x| is never above 1).
template <class T>
T sigmoid_scalar(T x) {
  const T z = std::exp(-std::abs(x));
  return (x >= T(0) ? T(1) : z) / (T(1) + z);
}

/// log(1 + e^x) for one value, as max(x, 0) + log1p(e^-|x|) (no overflow, exact tails).
template <class T>
T softplus_scalar(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

/// min(max(x, 0), 6), keeping NaN as NaN.
template <class T>
T relu6_scalar(T x) {
  return x < T(0) ? T(0) : (x > T(6) ? T(6) : x);
}

/// y = act(y + bias) in place over a rows x cols row-major block; `bias` [cols] may be null.
template <class T>
void bias_activation(T* y, index_t rows, index_t cols, const T* bias, Pointwise act) {
  if (bias) {
    for (index_t r = 0; r < rows; ++r) {
      T* yr = y + r * cols;
      for (index_t c = 0; c < cols; ++c) yr[c] += bias[c];
    }
  }
  const index_t n = rows * cols;
  switch (act) {
    case Pointwise::linear:
      break;
    case Pointwise::relu:  // x < 0 ? 0 : x keeps NaN, as relu()
      for (index_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
      break;
    case Pointwise::sigmoid:
      sigmoid_values(y, y, n);
      break;
    case Pointwise::tanh:
      VectorMap<T>(y, n).array() = VectorMap<T>(y, n).array().tanh();
      break;
    case Pointwise::leaky_relu: {
      const T s = T(kLeakyReluSlope);
      for (index_t i = 0; i < n; ++i) y[i] = y[i] > T(0) ? y[i] : s * y[i];
      break;
    }
    case Pointwise::elu:
      elu_values(y, y, n, T(kEluAlpha));
      break;
    case Pointwise::selu:
      elu_values(y, y, n, T(kSeluAlpha));
      VectorMap<T>(y, n) *= T(kSeluScale);
      break;
    case Pointwise::relu6:
      for (index_t i = 0; i < n; ++i) y[i] = relu6_scalar(y[i]);
      break;
    case Pointwise::hard_sigmoid:
      for (index_t i = 0; i < n; ++i) y[i] = relu6_scalar(y[i] + T(3)) / T(6);
      break;
    case Pointwise::softsign:
      for (index_t i = 0; i < n; ++i) y[i] = y[i] / (T(1) + std::abs(y[i]));
      break;
  }
}

/// The backward of the activation in bias_activation, over n values: dz = g * act'(z), with
/// act'(z) found from the output a = act(z). `dz` may be `g`.
template <class T>
void bias_activation_backward(const T* g, const T* a, T* dz, index_t n, Pointwise act) {
  switch (act) {
    case Pointwise::linear:  // 1
      if (dz != g) std::copy_n(g, n, dz);
      break;
    case Pointwise::relu:  // [z > 0] = [a > 0]
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : T(0);
      break;
    case Pointwise::sigmoid:  // a (1 - a)
      for (index_t i = 0; i < n; ++i) dz[i] = g[i] * a[i] * (T(1) - a[i]);
      break;
    case Pointwise::tanh:  // 1 - a^2
      for (index_t i = 0; i < n; ++i) dz[i] = g[i] * (T(1) - a[i] * a[i]);
      break;
    case Pointwise::leaky_relu: {  // 1 for z > 0 (a > 0, as the slope is positive), slope else
      const T s = T(kLeakyReluSlope);
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : s * g[i];
      break;
    }
    case Pointwise::elu: {  // 1 for z > 0, alpha e^z = a + alpha otherwise
      const T alpha = T(kEluAlpha);
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : g[i] * (a[i] + alpha);
      break;
    }
    case Pointwise::selu: {  // scale for z > 0, scale alpha e^z = a + scale alpha otherwise
      const T scale = T(kSeluScale), sa = T(kSeluScale * kSeluAlpha);
      for (index_t i = 0; i < n; ++i) dz[i] = g[i] * (a[i] > T(0) ? scale : a[i] + sa);
      break;
    }
    case Pointwise::relu6:  // [0 < z < 6] = [0 < a < 6]
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) && a[i] < T(6) ? g[i] : T(0);
      break;
    case Pointwise::hard_sigmoid:  // 1/6 for -3 < z < 3, i.e. 0 < a < 1
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) && a[i] < T(1) ? g[i] / T(6) : T(0);
      break;
    case Pointwise::softsign:  // 1 / (1 + |z|)^2 = (1 - |a|)^2
      for (index_t i = 0; i < n; ++i) {
        const T r = T(1) - std::abs(a[i]);
        dz[i] = g[i] * r * r;
      }
      break;
  }
}

/// sums[c] += the sum of column c of a rows x cols row-major block (a bias gradient).
template <class T>
void add_column_sums(const T* m, index_t rows, index_t cols, T* sums) {
  for (index_t r = 0; r < rows; ++r) {
    const T* mr = m + r * cols;
    for (index_t c = 0; c < cols; ++c) sums[c] += mr[c];
  }
}

}  // namespace detail

}  // namespace lamina
