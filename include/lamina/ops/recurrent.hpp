#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/rnn.hpp"
#include "lamina/ops/shape_ops.hpp"

// What the gated recurrent ops (lstm.hpp, gru.hpp) share. Each runs the whole sequence as one op
// with one back-propagation-through-time rule. Shared conventions:
//   - x [batch, timesteps, features]; gates side by side in the kernels' columns, in Keras's
//     order (LSTM i, f, c, o; GRU z, r, h);
//   - the input projections X W (+ b) of all steps are one GEMM, then each step adds one small
//     GEMM with the recurrent kernel and runs the gates in a fused loop;
//   - buffers are kept in input-time order, so that dX = dZ Wᵀ and dW = Xᵀ dZ are one GEMM each
//     whichever way the sequence is walked; step s of the walk reads input step
//     step_time(s) (go_backwards walks from the last input step to the first);
//   - the outputs are in walking order (Keras: go_backwards returns the reversed sequence);
//   - an optional recurrent dropout mask m [batch, units] (Keras's recurrent_dropout, the same
//     at every step) multiplies h_{t-1} wherever it enters a product with the recurrent kernel;
//     the state carried on (LSTM's cell, GRU's z h_{t-1}) is not masked. The gradient to
//     h_{t-1} through those products is masked the same way.

namespace lamina {

/// Options of the lstm and gru ops (the layers LSTM and GRU resolve Keras's names into these).
struct GatedRNNOpOptions {
  /// Applied to the candidate (and, in LSTM, to the cell state on output).
  detail::Pointwise activation = detail::Pointwise::tanh;
  /// Applied to the gates.
  detail::Pointwise recurrent_activation = detail::Pointwise::sigmoid;
  /// Return every step's output [batch, timesteps, units] rather than the last [batch, units].
  bool return_sequences = false;
  /// Walk the input from its last step to its first (outputs in walking order).
  bool go_backwards = false;
  /// gru only: apply the reset gate after the recurrent product (Keras 3's default, PyTorch's
  /// and cuDNN's convention; bias [2, 3 units]) rather than before it (bias [3 units]).
  bool reset_after = true;
};

namespace detail {

/// The input step that step s of the walk reads.
inline index_t step_time(index_t s, index_t steps, bool backwards) {
  return backwards ? steps - 1 - s : s;
}

/// Validates x [batch, timesteps, features], kernel [features, gates * units], recurrent kernel
/// [units, gates * units] and the bias shape `bias_shape` (when a bias is given); returns units.
template <class T>
index_t check_gated_shapes(const char* op, index_t gates, const Variable<T>& x,
                           const Variable<T>& kernel, const Variable<T>& recurrent_kernel,
                           const Variable<T>* bias, const Shape& bias_shape_per_unit) {
  const Shape &xs = x.shape(), &ws = kernel.shape(), &us = recurrent_kernel.shape();
  check<ShapeError>(xs.rank() == 3 && xs[1] > 0, op,
                    ": input must be [batch, timesteps, features] with at least one timestep, got ",
                    xs);
  check<ShapeError>(ws.rank() == 2 && ws[0] == xs[2] && ws[1] > 0 && ws[1] % gates == 0, op,
                    ": kernel ", ws, " does not match input ", xs, " (expected [", xs[2], ", ",
                    gates, " * units])");
  const index_t units = ws[1] / gates;
  check<ShapeError>(us == Shape{units, gates * units}, op, ": recurrent kernel ", us,
                    " does not match kernel ", ws, " (expected [", units, ", ", gates * units,
                    "])");
  if (bias) {
    std::vector<index_t> dims = bias_shape_per_unit.dims();
    dims.back() *= units;
    const Shape expected(std::move(dims));
    check<ShapeError>(bias->shape() == expected, op, ": bias ", bias->shape(),
                      " does not match kernel ", ws, " (expected ", expected, ")");
  }
  return units;
}

/// Validates a recurrent dropout mask (null: none) against [batch, units].
template <class T>
void check_recurrent_mask(const char* op, const Tensor<T>* mask, index_t batch, index_t units) {
  check<ShapeError>(!mask || mask->shape() == Shape{batch, units}, op, ": recurrent dropout mask ",
                    mask ? mask->shape() : Shape{}, " does not match [batch, units] = [", batch,
                    ", ", units, "]");
}

/// states [batch, steps, units] with each sample's rows multiplied by its row of mask [batch,
/// units] (no-op for a null mask): the recurrent operands m h_{t-1} from previous_states().
template <class T>
void apply_recurrent_mask(Tensor<T>& states, const Tensor<T>* mask) {
  if (!mask) return;
  const index_t batch = states.dim(0), steps = states.dim(1), units = states.dim(2);
  for (index_t n = 0; n < batch; ++n)
    for (index_t t = 0; t < steps; ++t) {
      T* row = states.data() + (n * steps + t) * units;
      const T* m = mask->data() + n * units;
      for (index_t j = 0; j < units; ++j) row[j] *= m[j];
    }
}

/// The outputs in walking order from states h [batch, steps, units] kept in input-time order:
/// every step [batch, steps, units] or the last [batch, units]; with `extra` (LSTM's cell
/// state, [batch, steps, units] too) its last step is appended along the time axis:
/// [batch, steps + 1, units] or [batch, 2, units].
template <class T>
Tensor<T> gather_outputs(const Tensor<T>& h, const Tensor<T>* extra, bool sequences,
                         bool backwards) {
  const index_t batch = h.dim(0), steps = h.dim(1), units = h.dim(2);
  const index_t out_steps = sequences ? steps : 1, rows = out_steps + (extra ? 1 : 0);
  Tensor<T> y = extra || sequences ? Tensor<T>::empty({batch, rows, units})
                                   : Tensor<T>::empty({batch, units});
  const index_t last = step_time(steps - 1, steps, backwards);
  for (index_t n = 0; n < batch; ++n) {
    T* out = y.data() + n * rows * units;
    for (index_t s = 0; s < out_steps; ++s) {
      const index_t t = sequences ? step_time(s, steps, backwards) : last;
      std::copy_n(h.data() + (n * steps + t) * units, units, out + s * units);
    }
    if (extra)
      std::copy_n(extra->data() + (n * steps + last) * units, units, out + rows * units - units);
  }
  return y;
}

/// dh += the upstream gradient of the outputs at walking step s (see gather_outputs).
template <class T>
void add_output_gradient(const Tensor<T>& g, index_t s, index_t steps, bool sequences,
                         bool has_extra, T* dh, index_t batch, index_t units) {
  const index_t out_steps = sequences ? steps : 1, rows = out_steps + (has_extra ? 1 : 0);
  const bool flat = !sequences && !has_extra;
  index_t at;
  if (sequences) {
    at = s;
  } else if (s == steps - 1) {
    at = 0;
  } else {
    return;
  }
  for (index_t n = 0; n < batch; ++n) {
    const T* src = g.data() + (flat ? n * units : (n * rows + at) * units);
    T* dst = dh + n * units;
    for (index_t j = 0; j < units; ++j) dst[j] += src[j];
  }
}

/// The state before each input step, in input-time order: prev[n, step_time(s)] = h[n,
/// step_time(s - 1)], zero for the first step walked. dU = prevᵀ dZ sums h_{s-1}ᵀ dz_s.
template <class T>
Tensor<T> previous_states(const Tensor<T>& h, bool backwards) {
  const index_t batch = h.dim(0), steps = h.dim(1), units = h.dim(2);
  Tensor<T> prev = Tensor<T>::empty(h.shape());
  for (index_t n = 0; n < batch; ++n) {
    const T* src = h.data() + n * steps * units;
    T* dst = prev.data() + n * steps * units;
    if (backwards) {
      std::copy_n(src + units, (steps - 1) * units, dst);
      std::fill_n(dst + (steps - 1) * units, units, T(0));
    } else {
      std::fill_n(dst, units, T(0));
      std::copy_n(src, (steps - 1) * units, dst + units);
    }
  }
  return prev;
}

/// dX = dZ Wᵀ, dW = Xᵀ dZ and the bias gradient's first row += column sums of dZ, each for the
/// inputs that want one (inputs 0, 1 and `bias_input`).
template <class T>
void add_input_projection_gradients(autograd::Gradients<T>& grads, const Tensor<T>& dz,
                                    const Tensor<T>& xv, const Tensor<T>& wv, T* db) {
  const index_t rows = xv.dim(0) * xv.dim(1), features = xv.dim(2), cols = wv.dim(1);
  if (grads.wants(0)) {
    Tensor<T> dx = Tensor<T>::empty(xv.shape());
    gemm(matrix(dx.data(), rows, features), matrix(dz.data(), rows, cols),
         matrix(wv.data(), features, cols).transpose());
    grads.add(0, std::move(dx));
  }
  if (grads.wants(1)) {
    Tensor<T> dw = Tensor<T>::empty(wv.shape());
    gemm(matrix(dw.data(), features, cols), matrix(xv.data(), rows, features).transpose(),
         matrix(dz.data(), rows, cols));
    grads.add(1, std::move(dw));
  }
  if (db) add_column_sums(dz.data(), rows, cols, db);
}

}  // namespace detail

}  // namespace lamina
