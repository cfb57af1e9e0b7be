#pragma once

#include <cmath>
#include <ostream>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/finite.hpp"
#include "lamina/layers/layer.hpp"

/// The checks a training step makes before its optimizer step, so that an infinite or NaN loss
/// or gradient never reaches the weights (docs/RELIABILITY.md).
namespace lamina::detail {

/// Where a training step runs, for error messages: the caller ("fit", "train_on_batch", "GAN")
/// and, inside fit's loop, the 1-based epoch and batch of `steps` (epoch 0: no loop).
struct StepPlace {
  const char* op = "fit";
  int epoch = 0;
  index_t batch = 0;
  index_t steps = 0;
};

/// " at epoch 2, batch 3 of 10", or nothing outside a loop.
inline std::ostream& operator<<(std::ostream& out, const StepPlace& where) {
  if (where.epoch > 0)
    out << " at epoch " << where.epoch << ", batch " << where.batch << " of " << where.steps;
  return out;
}

/// The number of batches of at most `batch_size` (> 0) in n samples, without the overflow of
/// (n + batch_size - 1) / batch_size for batch sizes near the index type's maximum.
inline index_t batch_count(index_t n, index_t batch_size) {
  return n / batch_size + (n % batch_size != 0);
}

/// "nan", "inf" or "-inf" (the sign of a NaN, which streams print as "-nan", means nothing).
inline const char* non_finite_name(double v) {
  return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

inline constexpr const char* kWeightsKept =
    "; the weights are left as they were before this step (check the data for inf or nan "
    "values, or lower the learning rate)";

/// Throws NonFiniteError unless `loss` (named `what`: "the loss", "d_loss") is finite.
inline void check_finite_loss(double loss, const StepPlace& where, const char* what = "the loss") {
  if (!std::isfinite(loss)) [[unlikely]]
    fail<NonFiniteError>(where.op, ": ", what, " became ", non_finite_name(loss), where,
                         kWeightsKept);
}

/// Throws NonFiniteError naming the first weight of `layers` that trains and whose gradient
/// holds an infinite or NaN value: `fit: the gradient of dense_1/kernel [8, 1] is not finite
/// (nan at index 3) at epoch 1, batch 2 of 2; ...`. One vectorised pass over the gradients.
template <class T>
void check_finite_gradients(const std::vector<Layer<T>*>& layers, const StepPlace& where) {
  for (const Layer<T>* layer : layers) {
    for (const Weight<T>& w : layer->weights()) {
      if (!w.variable.requires_grad() || !w.variable.has_grad()) continue;
      const Tensor<T> g = w.variable.grad();
      const index_t bad = first_non_finite(g.data(), g.size());
      if (bad >= 0) [[unlikely]]
        fail<NonFiniteError>(where.op, ": the gradient of ", layer->name(), "/", w.name, " ",
                             g.shape(), " is not finite (", non_finite_name(double(g.data()[bad])),
                             " at index ", bad, ")", where, kWeightsKept);
    }
  }
}

}  // namespace lamina::detail
