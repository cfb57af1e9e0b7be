#pragma once

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/gemm.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/activation.hpp"

namespace lamina {

/// Options of simple_rnn (Keras SimpleRNN's keyword arguments of the same names).
struct RNNOptions {
  /// Applied at every step: "linear", "relu", "sigmoid", "tanh", "leaky_relu" or "elu".
  std::string activation = "tanh";
  /// Return every step's state [batch, timesteps, units] rather than the last [batch, units].
  bool return_sequences = false;
};

namespace detail {

/// Rows [batch] of step t in a [batch, timesteps, cols] buffer, as a strided matrix view.
template <class T>
auto step_rows(T* data, index_t batch, index_t steps, index_t cols, index_t t) {
  using Matrix =
      std::conditional_t<std::is_const_v<T>, const RowMatrix<std::remove_const_t<T>>, RowMatrix<T>>;
  return Eigen::Map<Matrix, 0, Eigen::OuterStride<>>(data + t * cols, batch, cols,
                                                     Eigen::OuterStride<>(steps * cols));
}

/// simple_rnn with an optional bias (null when absent).
template <class T>
Variable<T> simple_rnn(const Variable<T>& x, const Variable<T>& kernel,
                       const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                       const RNNOptions& options) {
  const Shape &xs = x.shape(), &ws = kernel.shape(), &us = recurrent_kernel.shape();
  check<ShapeError>(xs.rank() == 3 && xs[1] > 0,
                    "simple_rnn: input must be [batch, timesteps, "
                    "features] with at least one timestep, got ",
                    xs);
  check<ShapeError>(ws.rank() == 2 && ws[0] == xs[2], "simple_rnn: kernel ", ws,
                    " does not match input ", xs, " (expected [", xs[2], ", units])");
  const index_t batch = xs[0], steps = xs[1], features = xs[2], units = ws[1];
  check<ShapeError>(us == Shape{units, units}, "simple_rnn: recurrent kernel ", us,
                    " does not match kernel ", ws, " (expected [", units, ", ", units, "])");
  check<ShapeError>(!bias || bias->shape() == Shape{units}, "simple_rnn: bias ",
                    bias ? bias->shape() : Shape{}, " does not match kernel ", ws, " (expected [",
                    units, "])");
  const Pointwise act = pointwise("simple_rnn", options.activation);
  const index_t rows = batch * steps;

  // Every step's state, [batch, timesteps, units]: first the input projections X W + b of all
  // steps (one GEMM), then step by step h_t = act(that + h_{t-1} U).
  Tensor<T> h = Tensor<T>::empty({batch, steps, units});
  gemm(matrix(h.data(), rows, units), matrix(x.value().data(), rows, features),
       matrix(kernel.value().data(), features, units));
  {
    [[maybe_unused]] const SerialEigen serial;
    const auto u = matrix(recurrent_kernel.value().data(), units, units);
    const T* b = bias ? bias->value().data() : nullptr;
    T* hp = h.data();
    for (index_t t = 0; t < steps; ++t) {
      if (t > 0)
        gemm_views(step_rows(hp, batch, steps, units, t),
                   step_rows<const T>(hp, batch, steps, units, t - 1), u, true);
      for (index_t n = 0; n < batch; ++n)
        bias_activation(hp + (n * steps + t) * units, 1, units, b, act);
    }
  }
  Tensor<T> y = h;
  if (!options.return_sequences) {
    y = Tensor<T>::empty({batch, units});
    for (index_t n = 0; n < batch; ++n)
      std::copy_n(h.data() + (n * steps + steps - 1) * units, units, y.data() + n * units);
  }

  std::vector<Variable<T>> inputs{x, kernel, recurrent_kernel};
  if (bias) inputs.push_back(*bias);
  return Variable<T>::from_op(
      "simple_rnn", std::move(y), std::move(inputs),
      [act, sequences = options.return_sequences, has_bias = bias != nullptr, h, xv = x.value(),
       wv = kernel.value(), uv = recurrent_kernel.value(), batch, steps, features,
       units](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Back-propagation through time. With z_t = x_t W + h_{t-1} U + b and h_t = act(z_t),
        // dL/dh_t = (upstream at step t) + dz_{t+1} Uᵀ and dz_t = dL/dh_t act'(z_t), act' found
        // from h_t. Then, over all steps at once: dW = Xᵀ dZ, dU = sum_t h_{t-1}ᵀ dz_t (h_{-1}
        // = 0), db = the column sums of dZ, dX = dZ Wᵀ.
        [[maybe_unused]] const SerialEigen serial;
        const index_t rows = batch * steps;
        const auto u = matrix(uv.data(), units, units);
        Tensor<T> dz = Tensor<T>::empty({batch, steps, units});
        Tensor<T> dh({batch, units});  // dL/dh_t, from the later steps and the output
        const T* gp = g.data();
        const T* hp = h.data();
        T* dzp = dz.data();
        for (index_t t = steps - 1; t >= 0; --t) {
          if (sequences) {
            matrix(dh.data(), batch, units) += step_rows(gp, batch, steps, units, t);
          } else if (t == steps - 1) {
            std::copy_n(gp, batch * units, dh.data());
          }
          for (index_t n = 0; n < batch; ++n) {
            const index_t at = (n * steps + t) * units;
            bias_activation_backward(dh.data() + n * units, hp + at, dzp + at, units, act);
          }
          if (t > 0)
            gemm_views(matrix(dh.data(), batch, units),
                       step_rows<const T>(dzp, batch, steps, units, t), u.transpose());
        }
        if (grads.wants(0)) {
          Tensor<T> dx = Tensor<T>::empty(xv.shape());
          gemm(matrix(dx.data(), rows, features), matrix(dzp, rows, units),
               matrix(wv.data(), features, units).transpose());
          grads.add(0, std::move(dx));
        }
        if (grads.wants(1)) {
          Tensor<T> dw = Tensor<T>::empty(wv.shape());
          gemm(matrix(dw.data(), features, units), matrix(xv.data(), rows, features).transpose(),
               matrix(dzp, rows, units));
          grads.add(1, std::move(dw));
        }
        if (grads.wants(2)) {
          // h_{t-1} beside dz_t: the states shifted one step later, zero at t = 0.
          Tensor<T> previous = Tensor<T>::empty(h.shape());
          for (index_t n = 0; n < batch; ++n) {
            T* p = previous.data() + n * steps * units;
            std::fill_n(p, units, T(0));
            std::copy_n(hp + n * steps * units, (steps - 1) * units, p + units);
          }
          Tensor<T> du = Tensor<T>::empty(uv.shape());
          gemm(matrix(du.data(), units, units), matrix(previous.data(), rows, units).transpose(),
               matrix(dzp, rows, units));
          grads.add(2, std::move(du));
        }
        if (has_bias && grads.wants(3)) {
          Tensor<T> db({units});
          add_column_sums(dzp, rows, units, db.data());
          grads.add(3, std::move(db));
        }
      });
}

}  // namespace detail

/// A whole SimpleRNN sequence (Elman 1990) as one op: h_t = activation(x_t kernel +
/// h_{t-1} recurrent_kernel + bias), h_0 = 0. x: [batch, timesteps, features]; kernel:
/// [features, units]; recurrent_kernel: [units, units]; bias: [units]. Returns the last state
/// [batch, units], or every state [batch, timesteps, units] with return_sequences.
///
/// The input projections of all steps are one GEMM; the steps then run in order, each one small
/// GEMM with the recurrent kernel. The backward (through time) is one rule over the whole
/// sequence: a step-by-step sweep for dZ, then dW, dU and dX each as one GEMM over all steps.
template <class T>
Variable<T> simple_rnn(const Variable<T>& x, const Variable<T>& kernel,
                       const Variable<T>& recurrent_kernel, const Variable<T>& bias,
                       RNNOptions options = {}) {
  return detail::simple_rnn(x, kernel, recurrent_kernel, &bias, options);
}

/// simple_rnn without a bias.
template <class T>
Variable<T> simple_rnn(const Variable<T>& x, const Variable<T>& kernel,
                       const Variable<T>& recurrent_kernel, RNNOptions options = {}) {
  return detail::simple_rnn<T>(x, kernel, recurrent_kernel, nullptr, options);
}

}  // namespace lamina
