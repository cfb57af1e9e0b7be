#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "lamina/detail/gemm.hpp"
#include "lamina/ops/recurrent.hpp"

namespace lamina {

namespace detail {

/// The lstm op; `with_cell_state` appends the last cell state to the output (gather_outputs);
/// `mask` is the recurrent dropout mask (null: none).
template <class T>
Variable<T> lstm(const Variable<T>& x, const Variable<T>& kernel,
                 const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                 const GatedRNNOpOptions& o, bool with_cell_state, const Tensor<T>* mask) {
  const index_t units = check_gated_shapes("lstm", 4, x, kernel, recurrent_kernel, bias, Shape{4});
  const index_t batch = x.dim(0), steps = x.dim(1), features = x.dim(2), cols = 4 * units;
  const index_t rows = batch * steps;
  check_recurrent_mask("lstm", mask, batch, units);
  const Pointwise act = o.activation, gate = o.recurrent_activation;
  const bool back = o.go_backwards;

  // z = x_t W + (m h_{t-1}) U + b (m: the recurrent dropout mask, else 1), split into i, f, g (the
  // candidate), o; kept after activation: i = gate(z_i), f = gate(z_f), g = act(z_g), o =
  // gate(z_o). c_t = f c_{t-1} + i g, h_t = o act(c_t); ac keeps act(c_t).
  Tensor<T> z = Tensor<T>::empty({batch, steps, cols});
  gemm(matrix(z.data(), rows, cols), matrix(x.value().data(), rows, features),
       matrix(kernel.value().data(), features, cols));
  if (bias) bias_activation(z.data(), rows, cols, bias->value().data(), Pointwise::linear);
  Tensor<T> c = Tensor<T>::empty({batch, steps, units}), ac = Tensor<T>::empty(c.shape()),
            h = Tensor<T>::empty(c.shape());
  {
    [[maybe_unused]] const SerialEigen serial;
    const auto u = matrix(recurrent_kernel.value().data(), units, cols);
    Tensor<T> hm = mask ? Tensor<T>::empty({batch, units}) : Tensor<T>();
    for (index_t s = 0; s < steps; ++s) {
      const index_t t = step_time(s, steps, back), tp = step_time(s - 1, steps, back);
      if (s > 0) {
        const auto hp = step_rows<const T>(h.data(), batch, steps, units, tp);
        auto zt = step_rows(z.data(), batch, steps, cols, t);
        if (mask) {
          auto hmm = matrix(hm.data(), batch, units);
          hmm = hp.cwiseProduct(matrix(mask->data(), batch, units));
          gemm_views(zt, hmm, u, true);
        } else {
          gemm_views(zt, hp, u, true);
        }
      }
      for (index_t n = 0; n < batch; ++n) {
        T* zr = z.data() + (n * steps + t) * cols;
        bias_activation(zr, 1, 2 * units, static_cast<const T*>(nullptr), gate);  // i, f
        bias_activation(zr + 2 * units, 1, units, static_cast<const T*>(nullptr), act);
        bias_activation(zr + 3 * units, 1, units, static_cast<const T*>(nullptr), gate);
        const T *i = zr, *f = zr + units, *g = zr + 2 * units, *og = zr + 3 * units;
        const T* cp = s > 0 ? c.data() + (n * steps + tp) * units : nullptr;
        T* cr = c.data() + (n * steps + t) * units;
        T* acr = ac.data() + (n * steps + t) * units;
        T* hr = h.data() + (n * steps + t) * units;
        for (index_t j = 0; j < units; ++j) cr[j] = (cp ? f[j] * cp[j] : T(0)) + i[j] * g[j];
        std::copy_n(cr, units, acr);
        bias_activation(acr, 1, units, static_cast<const T*>(nullptr), act);
        for (index_t j = 0; j < units; ++j) hr[j] = og[j] * acr[j];
      }
    }
  }
  Tensor<T> y = gather_outputs(h, with_cell_state ? &c : nullptr, o.return_sequences, back);

  std::vector<Variable<T>> inputs{x, kernel, recurrent_kernel};
  if (bias) inputs.push_back(*bias);
  return Variable<T>::from_op(
      "lstm", std::move(y), std::move(inputs),
      [o, with_cell_state, has_bias = bias != nullptr, z, c, ac, h, xv = x.value(),
       wv = kernel.value(), uv = recurrent_kernel.value(),
       mv = mask ? *mask : Tensor<T>()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Through time, walking back from the last step. dh_t = (upstream at t) + dz_{t+1} Uᵀ;
        // the cell carries dc_t = (upstream of the last c) + dc_{t+1} f_{t+1}, plus this step's
        // dh_t o act'(c_t). Then, from c_t = f c_{t-1} + i g and h_t = o act(c_t):
        //   dz_i = dc g gate'(z_i),  dz_f = dc c_{t-1} gate'(z_f),  dz_g = dc i act'(z_g),
        //   dz_o = dh act(c_t) gate'(z_o)  (each derivative found from the activated value).
        // With a recurrent dropout mask m, the part through U is m (dz_{t+1} Uᵀ).
        // Over all steps at once: dW = Xᵀ dZ, dU = sum_t (m h_{t-1})ᵀ dz_t, db = column sums of
        // dZ, dX = dZ Wᵀ.
        [[maybe_unused]] const SerialEigen serial;
        const index_t batch = xv.dim(0), steps = xv.dim(1), units = h.dim(2), cols = 4 * units;
        const Pointwise act = o.activation, gate = o.recurrent_activation;
        const bool back = o.go_backwards;
        const auto u = matrix(uv.data(), units, cols);
        Tensor<T> dz = Tensor<T>::empty(z.shape());
        Tensor<T> dh({batch, units}), dc({batch, units});
        for (index_t s = steps - 1; s >= 0; --s) {
          const index_t t = step_time(s, steps, back), tp = step_time(s - 1, steps, back);
          add_output_gradient(g, s, steps, o.return_sequences, with_cell_state, dh.data(), batch,
                              units);
          if (with_cell_state && s == steps - 1) {
            const index_t rows = (o.return_sequences ? steps : 1) + 1;
            for (index_t n = 0; n < batch; ++n)
              for (index_t j = 0; j < units; ++j)
                dc.data()[n * units + j] += g.data()[(n * rows + rows - 1) * units + j];
          }
          for (index_t n = 0; n < batch; ++n) {
            const index_t at = n * steps + t;
            const T* zr = z.data() + at * cols;
            const T *i = zr, *f = zr + units, *gg = zr + 2 * units, *og = zr + 3 * units;
            const T* acr = ac.data() + at * units;
            const T* cp = s > 0 ? c.data() + (n * steps + tp) * units : nullptr;
            T* dzr = dz.data() + at * cols;
            T* dhr = dh.data() + n * units;
            T* dcr = dc.data() + n * units;
            // dc += dh o act'(c_t)
            for (index_t j = 0; j < units; ++j) dzr[j] = dhr[j] * og[j];
            bias_activation_backward(dzr, acr, dzr, units, act);
            for (index_t j = 0; j < units; ++j) {
              dcr[j] += dzr[j];
              dzr[j] = dcr[j] * gg[j];                      // d i
              dzr[units + j] = cp ? dcr[j] * cp[j] : T(0);  // d f
              dzr[2 * units + j] = dcr[j] * i[j];           // d g
              dzr[3 * units + j] = dhr[j] * acr[j];         // d o
              dcr[j] *= f[j];                               // carried to c_{t-1}
            }
            bias_activation_backward(dzr, zr, dzr, 2 * units, gate);
            bias_activation_backward(dzr + 2 * units, gg, dzr + 2 * units, units, act);
            bias_activation_backward(dzr + 3 * units, og, dzr + 3 * units, units, gate);
          }
          if (s > 0) {
            auto dhm = matrix(dh.data(), batch, units);
            gemm_views(dhm, step_rows<const T>(dz.data(), batch, steps, cols, t), u.transpose());
            if (mv.size()) dhm.array() *= matrix(mv.data(), batch, units).array();
          }
        }
        Tensor<T> db = has_bias && grads.wants(3) ? Tensor<T>({cols}) : Tensor<T>();
        add_input_projection_gradients(grads, dz, xv, wv, db.size() ? db.data() : nullptr);
        if (grads.wants(2)) {
          Tensor<T> prev = previous_states(h, back);
          apply_recurrent_mask(prev, mv.size() ? &mv : nullptr);
          Tensor<T> du = Tensor<T>::empty(uv.shape());
          gemm(matrix(du.data(), units, cols),
               matrix(prev.data(), batch * steps, units).transpose(),
               matrix(dz.data(), batch * steps, cols));
          grads.add(2, std::move(du));
        }
        if (db.size()) grads.add(3, std::move(db));
      });
}

}  // namespace detail

/// An LSTM's output and final states (lstm_with_state).
template <class T>
struct LSTMResult {
  /// [batch, units], or [batch, timesteps, units] with return_sequences.
  Variable<T> output;
  /// The last hidden state h and cell state c, [batch, units] each.
  Variable<T> h, c;
};

/// A whole LSTM sequence (Hochreiter & Schmidhuber 1997, with a forget gate: Gers et al. 2000)
/// as one op, in Keras's formulation: z = x_t kernel + h_{t-1} recurrent_kernel + bias split into
/// gates i, f, c, o; i, f, o = recurrent_activation(z_i, z_f, z_o); c_t = f c_{t-1} + i
/// activation(z_c); h_t = o activation(c_t); h_0 = c_0 = 0. x: [batch, timesteps, features];
/// kernel: [features, 4 units]; recurrent_kernel: [units, 4 units]; bias: [4 units] (null: none).
/// Returns the last h [batch, units], or every h [batch, timesteps, units] with return_sequences.
/// recurrent_mask (Keras's recurrent_dropout; null: none): m [batch, units], fixed over the
/// sequence, replaces h_{t-1} by m h_{t-1} in the product with recurrent_kernel (the cell state
/// is not masked); the gradient to h_{t-1} through it is masked too. It is a constant: no
/// gradient flows to it.
template <class T>
Variable<T> lstm(const Variable<T>& x, const Variable<T>& kernel,
                 const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                 const GatedRNNOpOptions& options = {}, const Tensor<T>* recurrent_mask = nullptr) {
  return detail::lstm(x, kernel, recurrent_kernel, bias, options, false, recurrent_mask);
}

/// lstm, also returning the last states h and c (Keras's return_state). The op's one output
/// then holds the last cell state after the outputs along the time axis; the three results are
/// slices of it.
template <class T>
LSTMResult<T> lstm_with_state(const Variable<T>& x, const Variable<T>& kernel,
                              const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                              const GatedRNNOpOptions& options = {},
                              const Tensor<T>* recurrent_mask = nullptr) {
  const Variable<T> packed =
      detail::lstm(x, kernel, recurrent_kernel, bias, options, true, recurrent_mask);
  const index_t batch = x.dim(0), units = recurrent_kernel.dim(0), rows = packed.dim(1);
  const auto step = [&](index_t s) { return reshape(slice(packed, 1, s, s + 1), {batch, units}); };
  LSTMResult<T> r;
  r.h = step(rows - 2);
  r.c = step(rows - 1);
  r.output = options.return_sequences ? slice(packed, 1, 0, rows - 1) : r.h;
  return r;
}

}  // namespace lamina
