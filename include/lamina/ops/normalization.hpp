#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/thread_slot.hpp"

// Batch and layer normalisation, each a fused op with one backward rule. All three ops read x
// as a matrix [rows, features] over its last axis: batch_norm normalises each column (a feature
// over every row: the batch, and also height and width of NHWC images), layer_norm each row (one
// sample's features). Then y = x_hat * gamma + beta, gamma and beta [features].

namespace lamina {

/// Options of batch_norm, batch_norm_inference and layer_norm.
struct NormOptions {
  /// Added to the variance before its square root (Keras's default 1e-3); must be positive.
  double epsilon = 1e-3;
};

/// What batch_norm returns: the output and the batch statistics it normalised with.
template <class T>
struct BatchNormResult {
  /// x's shape.
  Variable<T> y;
  /// Per-feature mean and biased variance (sum of squares over the count, not count - 1),
  /// [features]; plain tensors, not part of the graph.
  Tensor<T> mean, variance;
};

/// Makes batch_norm take its statistics over a global batch split across processes
/// (synchronised batch normalisation, PyTorch's SyncBatchNorm): lamina/distributed/ installs
/// one on the training thread for each data-parallel step (BatchNormStatisticsScope). Without
/// one, batch_norm uses the batch it is given. The backward rule of a batch_norm made under one
/// uses it too, so it must outlive the step's backward pass.
template <class T>
class BatchNormStatistics {
 public:
  virtual ~BatchNormStatistics() = default;
  /// This process's samples in the step, and the global batch's (every process's).
  virtual index_t local_samples() const = 0;
  virtual index_t global_samples() const = 0;
  /// Replaces `values` by their sum over the processes (every process calls it alike).
  virtual void sum(T* values, std::size_t count) = 0;
};

namespace detail {
/// The BatchNormStatistics of this thread's batch_norm calls, or null.
template <class T>
BatchNormStatistics<T>*& batch_norm_statistics() {
  return thread_slot<BatchNormStatistics<T>>();
}
}  // namespace detail

/// Installs `statistics` for batch_norm on this thread while it lives.
template <class T>
using BatchNormStatisticsScope = detail::ThreadSlotScope<BatchNormStatistics<T>>;

namespace detail {

template <class T>
using FeatureRow = Eigen::Array<T, 1, Eigen::Dynamic>;

/// x seen as a matrix [rows, cols]: cols is its last axis.
struct NormDims {
  index_t rows = 0, cols = 0;
};

/// Validates x [..., features] (rank >= min_rank, features >= 1), gamma and beta [features] and
/// epsilon; returns x's matrix view.
template <class T>
NormDims check_norm_args(const char* op, const Variable<T>& x, const Variable<T>& gamma,
                         const Variable<T>& beta, double epsilon, int min_rank) {
  const Shape& xs = x.shape();
  check<ShapeError>(xs.rank() >= min_rank, op, ": x must be [",
                    min_rank > 1 ? "batch, ..., " : "..., ", "features], got ", xs);
  const index_t features = xs[xs.rank() - 1];
  check<ShapeError>(features > 0, op, ": x ", xs, " has no features (last axis of size 0)");
  for (const auto& [name, v] : {std::pair{"gamma", &gamma}, std::pair{"beta", &beta}})
    check<ShapeError>(v->shape() == Shape{features}, op, ": ", name, " ", v->shape(),
                      " does not match x ", xs, " (expected [", features, "])");
  check<ValueError>(std::isfinite(epsilon) && epsilon > 0, op,
                    ": epsilon must be positive and finite, got ", epsilon);
  return {x.size() / features, features};
}

/// The rows of the global batch when `sync` spreads it over processes (this process has `rows`
/// of them, rows / local_samples per sample), else `rows`.
template <class T>
index_t global_rows(const BatchNormStatistics<T>* sync, index_t rows) {
  if (sync == nullptr) return rows;
  check(sync->local_samples() > 0 && rows % sync->local_samples() == 0, "batch_norm: ", rows,
        " rows do not split into ", sync->local_samples(), " samples of the synchronised step");
  return rows / sync->local_samples() * sync->global_samples();
}

/// Each element of `row` replaced by its sum over the processes of `sync` (if any).
template <class T>
void sum_over_processes(BatchNormStatistics<T>* sync, FeatureRow<T>& row) {
  if (sync != nullptr) sync->sum(row.data(), static_cast<std::size_t>(row.size()));
}

/// Per-column mean and biased variance of x seen as [rows, cols] (two passes: mean, then the
/// squared deviations from it), into out.mean and out.variance; with `sync`, over the global
/// batch (each pass's sums added over the processes).
template <class T>
void column_moments(const Tensor<T>& x, index_t rows, index_t cols, BatchNormResult<T>& out,
                    BatchNormStatistics<T>* sync = nullptr) {
  const auto xm = matrix(x, rows, cols).array();
  const T count = static_cast<T>(global_rows(sync, rows));
  FeatureRow<T> sum = FeatureRow<T>::Zero(cols);
  for (index_t r = 0; r < rows; ++r) sum += xm.row(r);
  sum_over_processes(sync, sum);
  const FeatureRow<T> mean = sum / count;
  FeatureRow<T> squares = FeatureRow<T>::Zero(cols);
  for (index_t r = 0; r < rows; ++r) squares += (xm.row(r) - mean).square();
  sum_over_processes(sync, squares);
  out.mean = Tensor<T>::empty({cols});
  out.variance = Tensor<T>::empty({cols});
  matrix(out.mean, 1, cols).array() = mean;
  matrix(out.variance, 1, cols).array() = squares / count;
}

/// x normalised, and the reciprocal standard deviations it was scaled by.
template <class T>
struct Normalized {
  Tensor<T> x_hat, rstd;
};

/// x_hat = (x - mean) * rstd per column, rstd = 1 / sqrt(variance + epsilon) [cols].
template <class T>
Normalized<T> normalize_columns(const Tensor<T>& x, const Tensor<T>& mean,
                                const Tensor<T>& variance, double epsilon, index_t rows,
                                index_t cols) {
  Tensor<T> rstd = Tensor<T>::empty({cols});
  array(rstd.data(), cols) =
      (array(variance.data(), cols) + static_cast<T>(epsilon)).sqrt().inverse();
  const auto r = matrix(rstd, 1, cols).array();
  const auto m = matrix(mean, 1, cols).array();
  Tensor<T> x_hat = Tensor<T>::empty(x.shape());
  matrix(x_hat, rows, cols).array() =
      (matrix(x, rows, cols).array().rowwise() - m.row(0)).rowwise() * r.row(0);
  return {std::move(x_hat), std::move(rstd)};
}

/// y = x_hat * gamma + beta, gamma and beta per column.
template <class T>
Tensor<T> scale_shift(const Tensor<T>& x_hat, const Tensor<T>& gamma, const Tensor<T>& beta,
                      index_t rows, index_t cols) {
  Tensor<T> y = Tensor<T>::empty(x_hat.shape());
  matrix(y, rows, cols).array() =
      (matrix(x_hat, rows, cols).array().rowwise() * matrix(gamma, 1, cols).array().row(0))
          .rowwise() +
      matrix(beta, 1, cols).array().row(0);
  return y;
}

/// The part of every rule below that is the same: for y = x_hat * gamma + beta,
/// d/d gamma = sum over rows of g * x_hat, d/d beta = sum over rows of g (inputs 1 and 2).
template <class T>
void add_scale_shift_grads(const Tensor<T>& g, const Tensor<T>& x_hat, index_t rows, index_t cols,
                           autograd::Gradients<T>& grads) {
  const auto gm = matrix(g, rows, cols).array();
  const auto xm = matrix(x_hat, rows, cols).array();
  if (grads.wants(1)) {
    FeatureRow<T> dgamma = FeatureRow<T>::Zero(cols);
    for (index_t r = 0; r < rows; ++r) dgamma += gm.row(r) * xm.row(r);
    Tensor<T> out = Tensor<T>::empty({cols});
    matrix(out, 1, cols).array() = dgamma;
    grads.add(1, std::move(out));
  }
  if (grads.wants(2)) {
    FeatureRow<T> dbeta = FeatureRow<T>::Zero(cols);
    for (index_t r = 0; r < rows; ++r) dbeta += gm.row(r);
    Tensor<T> out = Tensor<T>::empty({cols});
    matrix(out, 1, cols).array() = dbeta;
    grads.add(2, std::move(out));
  }
}

}  // namespace detail

/// Batch normalisation in training mode (Ioffe and Szegedy 2015), as one op: each feature
/// (last axis) is normalised with the mean and biased variance over every other axis,
/// y = (x - mean) / sqrt(variance + epsilon) * gamma + beta.
/// x: [batch, ..., features] (e.g. [batch, features] or NHWC [batch, h, w, channels]);
/// gamma, beta: [features]. Returns y (x's shape) and the batch mean and variance [features].
/// With a BatchNormStatistics installed (a data-parallel step), the statistics are the global
/// batch's, and the backward rule sums its column means over the processes too.
template <class T>
BatchNormResult<T> batch_norm(const Variable<T>& x, const Variable<T>& gamma,
                              const Variable<T>& beta, NormOptions options = {}) {
  const char* op = "batch_norm";
  const auto [rows, cols] = detail::check_norm_args(op, x, gamma, beta, options.epsilon, 2);
  check<ShapeError>(rows > 0, op, ": x ", x.shape(), " is empty (no values to take statistics of)");
  BatchNormStatistics<T>* const sync = detail::batch_norm_statistics<T>();
  BatchNormResult<T> result;
  detail::column_moments(x.value(), rows, cols, result, sync);
  detail::Normalized<T> n = detail::normalize_columns(x.value(), result.mean, result.variance,
                                                      options.epsilon, rows, cols);
  Tensor<T> y = detail::scale_shift(n.x_hat, gamma.value(), beta.value(), rows, cols);
  result.y = Variable<T>::from_op(
      op, std::move(y), {x, gamma, beta},
      [x_hat = n.x_hat, rstd = n.rstd, gv = gamma.value(), rows = rows, cols = cols, sync](
          const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // With d = g * gamma (the gradient w.r.t. x_hat) and N = rows, the mean and variance
        // depending on every x of the column: dx = rstd * (d - mean(d) - x_hat * mean(d x_hat)),
        // means over the column.
        //
        // Synchronised, g is the gradient of this process's mean loss L_r, and the step's loss
        // is L = sum_r w_r L_r (w_r = its share of the samples); what the strategy then
        // averages with the weights w_r is dL/dx / w_r here: the column sums become
        // sum_r w_r sum_d_r / w_r over the N rows of the global batch.
        if (grads.wants(0)) {
          const auto gm = detail::matrix(g, rows, cols).array();
          const auto xm = detail::matrix(x_hat, rows, cols).array();
          const detail::FeatureRow<T> scale = detail::matrix(gv, 1, cols).array();
          detail::FeatureRow<T> sum_d = detail::FeatureRow<T>::Zero(cols);
          detail::FeatureRow<T> sum_dx = detail::FeatureRow<T>::Zero(cols);
          for (index_t r = 0; r < rows; ++r) {
            sum_d += gm.row(r);
            sum_dx += gm.row(r) * xm.row(r);
          }
          T count = static_cast<T>(rows);
          if (sync != nullptr) {
            const T share =
                static_cast<T>(sync->local_samples()) / static_cast<T>(sync->global_samples());
            detail::FeatureRow<T> both(2 * cols);  // one allreduce for both sums
            both << sum_d * share, sum_dx * share;
            detail::sum_over_processes(sync, both);
            sum_d = both.head(cols);
            sum_dx = both.tail(cols);
            count = static_cast<T>(detail::global_rows(sync, rows)) * share;
          }
          const detail::FeatureRow<T> mean_d = sum_d * scale / count;
          const detail::FeatureRow<T> mean_dx = sum_dx * scale / count;
          const detail::FeatureRow<T> r = detail::matrix(rstd, 1, cols).array().row(0);
          Tensor<T> dx = Tensor<T>::empty(x_hat.shape());
          auto out = detail::matrix(dx, rows, cols).array();
          for (index_t i = 0; i < rows; ++i)
            out.row(i) = (gm.row(i) * scale - mean_d - xm.row(i) * mean_dx) * r;
          grads.add(0, std::move(dx));
        }
        detail::add_scale_shift_grads(g, x_hat, rows, cols, grads);
      });
  return result;
}

/// Batch normalisation with given statistics (inference mode: the moving mean and variance),
/// y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, per feature (last axis).
/// x: [batch, ..., features]; mean, variance (not differentiated), gamma, beta: [features].
template <class T>
Variable<T> batch_norm_inference(const Variable<T>& x, const Tensor<T>& mean,
                                 const Tensor<T>& variance, const Variable<T>& gamma,
                                 const Variable<T>& beta, NormOptions options = {}) {
  const char* op = "batch_norm_inference";
  const auto [rows, cols] = detail::check_norm_args(op, x, gamma, beta, options.epsilon, 2);
  for (const auto& [name, t] : {std::pair{"mean", &mean}, std::pair{"variance", &variance}})
    check<ShapeError>(t->shape() == Shape{cols}, op, ": ", name, " ", t->shape(),
                      " does not match x ", x.shape(), " (expected [", cols, "])");
  detail::Normalized<T> n =
      detail::normalize_columns(x.value(), mean, variance, options.epsilon, rows, cols);
  Tensor<T> y = detail::scale_shift(n.x_hat, gamma.value(), beta.value(), rows, cols);
  return Variable<T>::from_op(op, std::move(y), {x, gamma, beta},
                              [x_hat = n.x_hat, rstd = n.rstd, gv = gamma.value(), rows = rows,
                               cols = cols](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // The statistics are constants: dx = g * gamma * rstd.
                                if (grads.wants(0)) {
                                  const detail::FeatureRow<T> k =
                                      detail::matrix(gv, 1, cols).array().row(0) *
                                      detail::matrix(rstd, 1, cols).array().row(0);
                                  Tensor<T> dx = Tensor<T>::empty(x_hat.shape());
                                  detail::matrix(dx, rows, cols).array() =
                                      detail::matrix(g, rows, cols).array().rowwise() * k;
                                  grads.add(0, std::move(dx));
                                }
                                detail::add_scale_shift_grads(g, x_hat, rows, cols, grads);
                              });
}

/// Layer normalisation (Ba et al. 2016), as one op: each row (all but the last axis) is
/// normalised over its features with its own mean and biased variance,
/// y = (x - mean) / sqrt(variance + epsilon) * gamma + beta.
/// x: [..., features]; gamma, beta: [features]. Output: x's shape.
template <class T>
Variable<T> layer_norm(const Variable<T>& x, const Variable<T>& gamma, const Variable<T>& beta,
                       NormOptions options = {}) {
  const char* op = "layer_norm";
  const auto [rows, cols] = detail::check_norm_args(op, x, gamma, beta, options.epsilon, 1);
  Tensor<T> x_hat = Tensor<T>::empty(x.shape());
  Tensor<T> rstd = Tensor<T>::empty({rows});
  {
    const auto xm = detail::matrix(x.value(), rows, cols).array();
    auto hm = detail::matrix(x_hat, rows, cols).array();
    const T n = static_cast<T>(cols), eps = static_cast<T>(options.epsilon);
    for (index_t r = 0; r < rows; ++r) {
      const T mean = xm.row(r).sum() / n;
      hm.row(r) = xm.row(r) - mean;
      const T variance = hm.row(r).square().sum() / n;
      const T s = T(1) / std::sqrt(variance + eps);
      rstd.data()[r] = s;
      hm.row(r) *= s;
    }
  }
  Tensor<T> y = detail::scale_shift(x_hat, gamma.value(), beta.value(), rows, cols);
  return Variable<T>::from_op(
      op, std::move(y), {x, gamma, beta},
      [x_hat, rstd, gv = gamma.value(), rows = rows, cols = cols](const Tensor<T>& g,
                                                                  autograd::Gradients<T>& grads) {
        // As batch_norm's rule with rows and columns swapped: with d = g * gamma,
        // dx = rstd * (d - mean(d) - x_hat * mean(d x_hat)), means over the row.
        if (grads.wants(0)) {
          const auto gm = detail::matrix(g, rows, cols).array();
          const auto xm = detail::matrix(x_hat, rows, cols).array();
          const detail::FeatureRow<T> scale = detail::matrix(gv, 1, cols).array();
          Tensor<T> dx = Tensor<T>::empty(x_hat.shape());
          auto out = detail::matrix(dx, rows, cols).array();
          const T count = static_cast<T>(cols);
          for (index_t r = 0; r < rows; ++r) {
            out.row(r) = gm.row(r) * scale;  // d
            const T mean_d = out.row(r).sum() / count;
            const T mean_dx = (out.row(r) * xm.row(r)).sum() / count;
            out.row(r) = (out.row(r) - mean_d - xm.row(r) * mean_dx) * rstd.data()[r];
          }
          grads.add(0, std::move(dx));
        }
        detail::add_scale_shift_grads(g, x_hat, rows, cols, grads);
      });
}

}  // namespace lamina
