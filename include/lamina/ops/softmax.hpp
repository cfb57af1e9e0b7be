#pragma once

#include <cmath>
#include <type_traits>

#include "lamina/autograd/variable.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/shape_ops.hpp"

// Softmax and log-softmax over one axis of any rank, and the fused softmax + cross-entropy
// losses. All subtract the maximum along the axis first, so inputs like +-1000 give finite,
// correct values.

namespace lamina {

namespace detail {

template <class T>
using RowArray = Eigen::Array<T, 1, Eigen::Dynamic>;

/// Calls row(at) for every lane along the split axis when inner == 1 (a contiguous run of
/// v.size values starting at `at`), and block(at) for every v.size x inner block otherwise, so
/// both cases stay contiguous loops.
template <class Row, class Block>
void for_each_lane(const AxisSplit& v, Row&& row, Block&& block) {
  if (v.size == 0) return;
  for (index_t o = 0; o < v.outer; ++o) {
    if (v.inner == 1) {
      row(o * v.size);
    } else {
      block(o * v.size * v.inner);
    }
  }
}

/// Writes the softmax of each row of x, seen as [rows, c], into `probs` (same shape) and calls
/// per_row(i, max, log(sum(exp(x - max)))) for each row i, so that log_softmax and the fused
/// losses need no second pass over the exponentials.
template <class T, class F>
void softmax_rows(const Tensor<T>& x, Tensor<T>& probs, index_t rows, index_t c, F&& per_row) {
  if (c == 0) return;
  const auto xm = matrix(x, rows, c).array();
  auto pm = matrix(probs, rows, c).array();
  for (index_t i = 0; i < rows; ++i) {
    const T m = xm.row(i).maxCoeff();
    pm.row(i) = (xm.row(i) - m).exp();
    flush_subnormals(probs.data() + i * c, c);
    const T s = pm.row(i).sum();
    pm.row(i) *= T(1) / s;
    per_row(i, m, std::log(s));
  }
}

/// softmax (or log_softmax when `log`) of `x` along the split axis `v`.
template <class T>
Tensor<T> softmax_kernel(const Tensor<T>& x, const AxisSplit& v, bool log) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  if (v.inner == 1) {
    const auto xm = matrix(x, v.outer, v.size).array();
    auto ym = matrix(y, v.outer, v.size).array();
    softmax_rows(x, y, v.outer, v.size, [&](index_t i, T m, T log_s) {
      if (log) ym.row(i) = xm.row(i) - (m + log_s);
    });
    return y;
  }
  if (v.size == 0) return y;
  for (index_t o = 0; o < v.outer; ++o) {
    const index_t at = o * v.size * v.inner;
    const auto xb = matrix(x.data() + at, v.size, v.inner).array();
    auto yb = matrix(y.data() + at, v.size, v.inner).array();
    const RowArray<T> m = xb.colwise().maxCoeff();
    yb = (xb.rowwise() - m).exp();
    flush_subnormals(y.data() + at, v.size * v.inner);
    const RowArray<T> s = yb.colwise().sum();
    if (log) {
      yb = xb.rowwise() - (m + s.log());
    } else {
      yb.rowwise() /= s;
    }
  }
  return y;
}

/// Checks that logits are [N, C] with C >= 1; returns C.
template <class T>
index_t check_logits(const Tensor<T>& logits, const char* op) {
  check<ShapeError>(logits.rank() == 2, op, ": logits must be [batch, classes], got ",
                    logits.shape());
  check<ShapeError>(logits.shape()[1] >= 1, op, ": logits ", logits.shape(), " have no classes");
  return logits.shape()[1];
}

}  // namespace detail

/// softmax along `axis` (default the last; negative counts from the end) of a tensor of any
/// rank >= 1: exp(x - max) / sum(exp(x - max)). Output has x's shape.
template <class T>
Variable<T> softmax(const Variable<T>& x, int axis = -1) {
  const detail::AxisSplit v =
      detail::split_at(x.shape(), x.shape().normalize_axis(axis, "softmax"));
  Tensor<T> y = detail::softmax_kernel(x.value(), v, false);
  return Variable<T>::from_op(
      "softmax", y, {x}, [y, v](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // dx = y * (g - sum(g * y)) along the axis (the softmax Jacobian diag(y) - y y^T)
        Tensor<T> gx = Tensor<T>::empty(y.shape());
        detail::for_each_lane(
            v,
            [&](index_t at) {
              const auto yr = detail::ConstVectorMap<T>(y.data() + at, v.size).array();
              const auto gr = detail::ConstVectorMap<T>(g.data() + at, v.size).array();
              const T dot = (gr * yr).sum();
              detail::VectorMap<T>(gx.data() + at, v.size).array() = yr * (gr - dot);
            },
            [&](index_t at) {
              const auto yb = detail::matrix(y.data() + at, v.size, v.inner).array();
              const auto gb = detail::matrix(g.data() + at, v.size, v.inner).array();
              const detail::RowArray<T> dot = (gb * yb).colwise().sum();
              detail::matrix(gx.data() + at, v.size, v.inner).array() = yb * (gb.rowwise() - dot);
            });
        grads.add(0, std::move(gx));
      });
}

/// log(softmax(x)) along `axis` (default the last) of a tensor of any rank >= 1, computed as
/// x - max - log(sum(exp(x - max))), finite wherever x is. Output has x's shape.
template <class T>
Variable<T> log_softmax(const Variable<T>& x, int axis = -1) {
  const detail::AxisSplit v =
      detail::split_at(x.shape(), x.shape().normalize_axis(axis, "log_softmax"));
  Tensor<T> y = detail::softmax_kernel(x.value(), v, true);
  return Variable<T>::from_op(
      "log_softmax", y, {x}, [y, v](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // dx = g - softmax(x) * sum(g) along the axis, with softmax(x) = exp(y)
        Tensor<T> gx = Tensor<T>::empty(y.shape());
        detail::for_each_lane(
            v,
            [&](index_t at) {
              const auto yr = detail::ConstVectorMap<T>(y.data() + at, v.size).array();
              const auto gr = detail::ConstVectorMap<T>(g.data() + at, v.size).array();
              const T total = gr.sum();
              auto out = detail::VectorMap<T>(gx.data() + at, v.size).array();
              out = yr.exp();
              detail::flush_subnormals(gx.data() + at, v.size);
              out = gr - out * total;
            },
            [&](index_t at) {
              const auto yb = detail::matrix(y.data() + at, v.size, v.inner).array();
              const auto gb = detail::matrix(g.data() + at, v.size, v.inner).array();
              const detail::RowArray<T> total = gb.colwise().sum();
              auto out = detail::matrix(gx.data() + at, v.size, v.inner).array();
              out = yb.exp();
              detail::flush_subnormals(gx.data() + at, v.size * v.inner);
              out = gb - out.rowwise() * total;
            });
        grads.add(0, std::move(gx));
      });
}

/// Per-sample cross-entropy of softmax(logits) against target distributions, fused:
/// loss[i] = -sum_c targets[i, c] * log_softmax(logits)[i, c].
/// logits: [N, C]; targets: [N, C] (probabilities or one-hot; not differentiated) -> [N].
/// d loss[i]/d logits[i, c] = softmax[i, c] * sum(targets[i]) - targets[i, c], which is
/// softmax - targets when each target row sums to 1.
template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets) {
  const char* op = "softmax_cross_entropy";
  const index_t c = detail::check_logits(logits.value(), op);
  check<ShapeError>(targets.shape() == logits.shape(), op, ": targets ", targets.shape(),
                    " do not match logits ", logits.shape());
  const index_t n = logits.shape()[0];
  Tensor<T> loss = Tensor<T>::empty(Shape{n});
  const auto x = detail::matrix(logits.value(), n, c).array();
  const auto t = detail::matrix(targets, n, c).array();
  Tensor<T> probs = Tensor<T>::empty(logits.shape());
  detail::softmax_rows(logits.value(), probs, n, c, [&](index_t i, T m, T log_s) {
    // -sum t log_softmax(x) = sum t (log s - (x - m)), s = sum e^(x - m)
    loss.data()[i] = (t.row(i) * (log_s - (x.row(i) - m))).sum();
  });
  return Variable<T>::from_op(
      op, std::move(loss), {logits},
      [probs, targets, n, c](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d loss[i]/d x[i, c] = p[i, c] * sum(t[i]) - t[i, c], times the upstream g[i]
        Tensor<T> gx = Tensor<T>::empty(probs.shape());
        const auto p = detail::matrix(probs, n, c).array();
        const auto t = detail::matrix(targets, n, c).array();
        auto out = detail::matrix(gx, n, c).array();
        for (index_t i = 0; i < n; ++i)
          out.row(i) = (p.row(i) * t.row(i).sum() - t.row(i)) * g.data()[i];
        grads.add(0, std::move(gx));
      });
}

/// softmax_cross_entropy with targets given as a Variable that does not require grad (no
/// gradient flows to targets; a targets variable that requires one is an error).
template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Variable<T>& targets) {
  check<ValueError>(!targets.requires_grad(),
                    "softmax_cross_entropy: targets must not require grad (the op does not "
                    "differentiate them); pass targets.detach()");
  return softmax_cross_entropy(logits, targets.value());
}

/// Per-sample cross-entropy of softmax(logits) against integer class ids, fused:
/// loss[i] = -log_softmax(logits)[i, labels[i]].
/// logits: [N, C]; labels: [N] holding integers in [0, C) (not differentiated) -> [N].
/// Throws ValueError naming the label's value and position when one is not such an integer.
/// d loss[i]/d logits[i, c] = softmax[i, c] - [c == labels[i]].
template <class T>
Variable<T> sparse_softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& labels) {
  const char* op = "sparse_softmax_cross_entropy";
  const index_t c = detail::check_logits(logits.value(), op);
  const index_t n = logits.shape()[0];
  check<ShapeError>(labels.shape() == Shape{n}, op, ": labels must be [", n,
                    "] (one class id per row of logits ", logits.shape(), "), got ",
                    labels.shape());
  for (index_t i = 0; i < n; ++i) {
    const T id = labels.data()[i];
    check<ValueError>(std::floor(id) == id, op, ": label ", id, " at position ", i,
                      " is not an integer class id (classes: ", c, ")");
    check<ValueError>(id >= T(0) && id < static_cast<T>(c), op, ": label ", id, " at position ", i,
                      " is out of range [0, ", c, ")");
  }
  Tensor<T> loss = Tensor<T>::empty(Shape{n});
  const T* x = logits.value().data();
  Tensor<T> probs = Tensor<T>::empty(logits.shape());
  detail::softmax_rows(logits.value(), probs, n, c, [&](index_t i, T m, T log_s) {
    // -log_softmax(x)[label] = log s - (x[label] - m), s = sum e^(x - m)
    loss.data()[i] = log_s - (x[i * c + static_cast<index_t>(labels.data()[i])] - m);
  });
  return Variable<T>::from_op(
      op, std::move(loss), {logits},
      [probs, labels, n, c](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d loss[i]/d x[i, c] = (p[i, c] - [c == label[i]]) * g[i]
        Tensor<T> gx = Tensor<T>::empty(probs.shape());
        for (index_t i = 0; i < n; ++i) {
          const T gi = g.data()[i];
          const T* p = probs.data() + i * c;
          T* out = gx.data() + i * c;
          for (index_t k = 0; k < c; ++k) out[k] = p[k] * gi;
          out[static_cast<index_t>(labels.data()[i])] -= gi;
        }
        grads.add(0, std::move(gx));
      });
}

/// sparse_softmax_cross_entropy with labels given as a Variable that does not require grad.
template <class T>
Variable<T> sparse_softmax_cross_entropy(const Variable<T>& logits, const Variable<T>& labels) {
  check<ValueError>(!labels.requires_grad(),
                    "sparse_softmax_cross_entropy: labels must not require grad (class ids are "
                    "not differentiable); pass labels.detach()");
  return sparse_softmax_cross_entropy(logits, labels.value());
}

}  // namespace lamina
