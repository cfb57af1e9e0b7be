#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "lamina/detail/gemm.hpp"
#include "lamina/ops/recurrent.hpp"

namespace lamina {

namespace detail {

/// The gru op (see lamina::gru); `mask` is the recurrent dropout mask (null: none).
template <class T>
Variable<T> gru(const Variable<T>& x, const Variable<T>& kernel,
                const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                const GatedRNNOpOptions& o, const Tensor<T>* mask) {
  const bool after = o.reset_after;
  const index_t units = check_gated_shapes("gru", 3, x, kernel, recurrent_kernel, bias,
                                           after ? Shape{2, 3} : Shape{3});
  const index_t batch = x.dim(0), steps = x.dim(1), features = x.dim(2), cols = 3 * units;
  const index_t rows = batch * steps;
  const Pointwise act = o.activation, gate = o.recurrent_activation;
  const bool back = o.go_backwards;
  const T* b = bias ? bias->value().data() : nullptr;
  check_recurrent_mask("gru", mask, batch, units);
  const T* mk = mask ? mask->data() : nullptr;

  // p = x_t W + b_in split into z, r, h; kept as z = gate(p_z + q_z), r = gate(p_r + q_r),
  // hh = act(p_h + e) with, reset_after: q = h_{t-1} U + b_rec, e = r q_h (e keeps q_h);
  // otherwise: q = h_{t-1} U_zr, e = (r h_{t-1}) U_h (e keeps r h_{t-1}). h_t = z h_{t-1} +
  // (1 - z) hh. With a recurrent dropout mask m, h_{t-1} in q and e is m h_{t-1} (not in the
  // mix z h_{t-1}).
  Tensor<T> p = Tensor<T>::empty({batch, steps, cols});
  gemm(matrix(p.data(), rows, cols), matrix(x.value().data(), rows, features),
       matrix(kernel.value().data(), features, cols));
  if (b) bias_activation(p.data(), rows, cols, b, Pointwise::linear);
  Tensor<T> e = Tensor<T>::empty({batch, steps, units}), h = Tensor<T>::empty(e.shape());
  {
    [[maybe_unused]] const SerialEigen serial;
    const T* uv = recurrent_kernel.value().data();
    const auto u = matrix(uv, units, cols);
    const auto u_zr = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>(
        uv, units, 2 * units, Eigen::OuterStride<>(cols));
    const auto u_h = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>(
        uv + 2 * units, units, units, Eigen::OuterStride<>(cols));
    Tensor<T> q({batch, cols}), rh({batch, units});
    Tensor<T> hm = mask ? Tensor<T>::empty({batch, units}) : Tensor<T>();
    const auto project = [&](const auto& hp) {  // q from the recurrent operand hp [batch, units]
      if (after) {
        gemm_views(matrix(q.data(), batch, cols), hp, u);
      } else {
        gemm_views(matrix(q.data(), batch, cols).leftCols(2 * units), hp, u_zr);
      }
    };
    for (index_t s = 0; s < steps; ++s) {
      const index_t t = step_time(s, steps, back), tp = step_time(s - 1, steps, back);
      if (s > 0) {
        const auto hp = step_rows<const T>(h.data(), batch, steps, units, tp);
        if (mask) {
          auto hmm = matrix(hm.data(), batch, units);
          hmm = hp.cwiseProduct(matrix(mk, batch, units));
          project(hmm);
        } else {
          project(hp);
        }
      }
      if (after && b) bias_activation(q.data(), batch, cols, b + cols, Pointwise::linear);
      for (index_t n = 0; n < batch; ++n) {
        T* pr = p.data() + (n * steps + t) * cols;
        const T* qr = q.data() + n * cols;
        const T* hp = s > 0 ? h.data() + (n * steps + tp) * units : nullptr;
        T* er = e.data() + (n * steps + t) * units;
        for (index_t j = 0; j < 2 * units; ++j) pr[j] += s > 0 || after ? qr[j] : T(0);
        bias_activation(pr, 1, 2 * units, static_cast<const T*>(nullptr), gate);
        const T* r = pr + units;
        for (index_t j = 0; j < units; ++j) {
          if (after) {
            er[j] = s > 0 || b ? qr[2 * units + j] : T(0);
          } else {
            er[j] = hp ? r[j] * hp[j] * (mk ? mk[n * units + j] : T(1)) : T(0);
          }
        }
      }
      if (!after) {
        // The candidate's recurrent part (r h_{t-1}) U_h, for the whole batch at once.
        gemm_views(matrix(rh.data(), batch, units),
                   step_rows<const T>(e.data(), batch, steps, units, t), u_h);
      }
      for (index_t n = 0; n < batch; ++n) {
        T* pr = p.data() + (n * steps + t) * cols;
        const T *zg = pr, *r = pr + units;
        T* hh = pr + 2 * units;
        const T* er = e.data() + (n * steps + t) * units;
        const T* hp = s > 0 ? h.data() + (n * steps + tp) * units : nullptr;
        T* hr = h.data() + (n * steps + t) * units;
        if (after) {
          for (index_t j = 0; j < units; ++j) hh[j] += r[j] * er[j];
        } else {
          const T* rhr = rh.data() + n * units;
          for (index_t j = 0; j < units; ++j) hh[j] += rhr[j];
        }
        bias_activation(hh, 1, units, static_cast<const T*>(nullptr), act);
        for (index_t j = 0; j < units; ++j)
          hr[j] = (hp ? zg[j] * hp[j] : T(0)) + (T(1) - zg[j]) * hh[j];
      }
    }
  }
  Tensor<T> y = gather_outputs(h, static_cast<const Tensor<T>*>(nullptr), o.return_sequences, back);

  std::vector<Variable<T>> inputs{x, kernel, recurrent_kernel};
  if (bias) inputs.push_back(*bias);
  return Variable<T>::from_op(
      "gru", std::move(y), std::move(inputs),
      [o, has_bias = bias != nullptr, p, e, h, xv = x.value(), wv = kernel.value(),
       uv = recurrent_kernel.value(),
       mv = mask ? *mask : Tensor<T>()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Through time, walking back. With dh the gradient of h_t (upstream + what step t+1
        // sends back), from h_t = z h_{t-1} + (1 - z) hh:
        //   dp_z = dh (h_{t-1} - hh) gate'(z),  dp_h = dh (1 - z) act'(hh),
        //   reset_after: dp_r = dp_h q_h gate'(r), the recurrent pre-activations get
        //     dq = [dp_z, dp_r, dp_h r] and dh_{t-1} = dh z + dq Uᵀ;
        //   otherwise: with d(rh) = dp_h U_hᵀ, dp_r = d(rh) h_{t-1} gate'(r) and
        //     dh_{t-1} = dh z + d(rh) r + [dp_z, dp_r] U_zrᵀ.
        // A recurrent dropout mask m multiplies h_{t-1} above wherever it meets U (and e), and
        // so the gradient that returns to h_{t-1} through U (and r h_{t-1}); the direct part dh z
        // is not masked.
        // Over all steps: dW = Xᵀ dP, dX = dP Wᵀ, db (row 0) = column sums of dP; reset_after:
        // dU = sum_t h_{t-1}ᵀ dq_t, db row 1 = column sums of dQ; otherwise dU_zr = sum_t
        // h_{t-1}ᵀ dp_zr, dU_h = sum_t (r h_{t-1})ᵀ dp_h.
        [[maybe_unused]] const SerialEigen serial;
        const index_t batch = xv.dim(0), steps = xv.dim(1), units = h.dim(2), cols = 3 * units;
        const index_t rows = batch * steps;
        const Pointwise act = o.activation, gate = o.recurrent_activation;
        const bool back = o.go_backwards, after = o.reset_after;
        const T* u = uv.data();
        using Strided = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;
        const Strided u_zr(u, units, 2 * units, Eigen::OuterStride<>(cols));
        const Strided u_h(u + 2 * units, units, units, Eigen::OuterStride<>(cols));
        Tensor<T> dp = Tensor<T>::empty(p.shape());
        Tensor<T> dq = after ? Tensor<T>::empty(p.shape()) : Tensor<T>();
        Tensor<T> dh({batch, units}), drh = after ? Tensor<T>() : Tensor<T>({batch, units});
        const T* mk = mv.size() ? mv.data() : nullptr;
        Tensor<T> drec = mk ? Tensor<T>({batch, units}) : Tensor<T>();
        for (index_t s = steps - 1; s >= 0; --s) {
          const index_t t = step_time(s, steps, back), tp = step_time(s - 1, steps, back);
          add_output_gradient(g, s, steps, o.return_sequences, false, dh.data(), batch, units);
          for (index_t n = 0; n < batch; ++n) {
            const index_t at = n * steps + t;
            const T* pr = p.data() + at * cols;
            const T *zg = pr, *r = pr + units, *hh = pr + 2 * units;
            const T* hp = s > 0 ? h.data() + (n * steps + tp) * units : nullptr;
            const T* er = e.data() + at * units;
            T* d = dp.data() + at * cols;
            T* dhr = dh.data() + n * units;
            for (index_t j = 0; j < units; ++j) {
              d[j] = dhr[j] * ((hp ? hp[j] : T(0)) - hh[j]);
              d[2 * units + j] = dhr[j] * (T(1) - zg[j]);
              dhr[j] *= zg[j];  // the direct part of dh_{t-1}
            }
            bias_activation_backward(d, zg, d, units, gate);
            bias_activation_backward(d + 2 * units, hh, d + 2 * units, units, act);
            if (after) {
              for (index_t j = 0; j < units; ++j) d[units + j] = d[2 * units + j] * er[j];
              bias_activation_backward(d + units, r, d + units, units, gate);
              T* dqr = dq.data() + at * cols;
              std::copy_n(d, 2 * units, dqr);
              for (index_t j = 0; j < units; ++j) dqr[2 * units + j] = d[2 * units + j] * r[j];
            }
          }
          if (!after) {
            gemm_views(matrix(drh.data(), batch, units),
                       step_rows<const T>(dp.data(), batch, steps, cols, t).rightCols(units),
                       u_h.transpose());
            for (index_t n = 0; n < batch; ++n) {
              const index_t at = n * steps + t;
              const T* r = p.data() + at * cols + units;
              const T* hp = s > 0 ? h.data() + (n * steps + tp) * units : nullptr;
              const T* drr = drh.data() + n * units;
              T* d = dp.data() + at * cols + units;
              T* dhr = dh.data() + n * units;
              const T* m = mk ? mk + n * units : nullptr;
              for (index_t j = 0; j < units; ++j) {
                const T mj = m ? m[j] : T(1);
                d[j] = hp ? drr[j] * hp[j] * mj : T(0);
                dhr[j] += drr[j] * r[j] * mj;
              }
              bias_activation_backward(d, r, d, units, gate);
            }
          }
          if (s > 0) {
            auto dhm = matrix(dh.data(), batch, units);
            // The part through U goes to dh directly, or through drec to be masked.
            auto through = mk ? matrix(drec.data(), batch, units) : dhm;
            if (mk) through.setZero();
            if (after) {
              gemm_views(through, step_rows<const T>(dq.data(), batch, steps, cols, t),
                         matrix(u, units, cols).transpose(), true);
            } else {
              gemm_views(through,
                         step_rows<const T>(dp.data(), batch, steps, cols, t).leftCols(2 * units),
                         u_zr.transpose(), true);
            }
            if (mk) dhm.array() += through.array() * matrix(mk, batch, units).array();
          }
        }
        const bool want_b = has_bias && grads.wants(3);
        Tensor<T> db = want_b ? Tensor<T>(after ? Shape{2, cols} : Shape{cols}) : Tensor<T>();
        add_input_projection_gradients(grads, dp, xv, wv, want_b ? db.data() : nullptr);
        if (want_b && after) add_column_sums(dq.data(), rows, cols, db.data() + cols);
        if (grads.wants(2)) {
          Tensor<T> prev = previous_states(h, back);
          apply_recurrent_mask(prev, mk ? &mv : nullptr);
          Tensor<T> du = Tensor<T>::empty(uv.shape());
          auto dum = matrix(du.data(), units, cols);
          const auto prevt = matrix(prev.data(), rows, units).transpose();
          if (after) {
            gemm(dum, prevt, matrix(dq.data(), rows, cols));
          } else {
            gemm(dum.leftCols(2 * units), prevt, matrix(dp.data(), rows, cols).leftCols(2 * units));
            gemm(dum.rightCols(units), matrix(e.data(), rows, units).transpose(),
                 matrix(dp.data(), rows, cols).rightCols(units));
          }
          grads.add(2, std::move(du));
        }
        if (want_b) grads.add(3, std::move(db));
      });
}

}  // namespace detail

/// A whole GRU sequence (Cho et al. 2014) as one op, in Keras's formulation: with gates z, r
/// and candidate hh, h_t = z h_{t-1} + (1 - z) hh, h_0 = 0, z = recurrent_activation(x_t W_z +
/// h_{t-1} U_z + b), r likewise; reset_after (Keras 3's default, PyTorch's nn.GRU):
/// hh = activation(x_t W_h + b_h + r (h_{t-1} U_h + b_rh)) with bias [2, 3 units] (row 0 for the
/// input, row 1 for the recurrent products); otherwise hh = activation(x_t W_h + (r h_{t-1}) U_h
/// + b_h) with bias [3 units]. x: [batch, timesteps, features]; kernel: [features, 3 units];
/// recurrent_kernel: [units, 3 units]; bias null for none. Returns the last h [batch, units], or
/// every h [batch, timesteps, units] with return_sequences (the last state is the last output).
/// recurrent_mask (Keras's recurrent_dropout; null: none): m [batch, units], fixed over the
/// sequence, replaces h_{t-1} by m h_{t-1} where it meets recurrent_kernel: in h_{t-1} U
/// (reset_after), or in h_{t-1} U_zr and (r h_{t-1}) U_h; the mix z h_{t-1} keeps the unmasked
/// state (as Keras's GRUCell with implementation=1). A constant: no gradient flows to it.
template <class T>
Variable<T> gru(const Variable<T>& x, const Variable<T>& kernel,
                const Variable<T>& recurrent_kernel, const Variable<T>* bias,
                const GatedRNNOpOptions& options = {}, const Tensor<T>* recurrent_mask = nullptr) {
  return detail::gru(x, kernel, recurrent_kernel, bias, options, recurrent_mask);
}

}  // namespace lamina
