#pragma once

/// The hook through which a training strategy (data parallelism over MPI, in
/// lamina/distributed/) takes part in Model::fit without fit knowing how. The core defines only
/// this interface; it never includes MPI.

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/models/history.hpp"

namespace lamina {

template <class T>
class Model;

/// Thrown on every process of a distributed fit when another process failed: its message names
/// that process's rank and repeats its error.
class RankFailedError : public Error {
 public:
  using Error::Error;
};

/// How fit runs its steps across processes (Keras's tf.distribute.Strategy, reduced to what fit
/// needs). FitOptions::strategy holds one; without it fit trains in this process alone.
///
/// Contract: fit calls, in order, `begin` once (after the model is built, before the first
/// step); per global batch [begin, end) of the shuffled order, `shard` (this process trains on
/// the part it returns; when that is empty, fit zeroes the gradients and calls
/// `reduce_gradients` and the optimizer's step itself); inside Model::train_step, between
/// backward and the optimizer's step, `reduce_gradients`;
/// after every step and after validation, `reduce_logs`; `end` when fit returns. Every process
/// makes the same calls in the same order, which lets a strategy use collective operations in
/// each; an exception leaving fit anywhere calls `fail` instead, which must reach the other
/// processes at their next call (a strategy starts each call with an agreement on failures).
template <class T>
class FitStrategy {
 public:
  virtual ~FitStrategy() = default;

  /// Whether this process prints progress and runs the callbacks that write files (rank 0).
  virtual bool chief() const = 0;
  /// Makes every process start from the same state and checks that they can train together:
  /// `model` is built and its optimizer holds its parameters; `settings` are values every
  /// process must share ({"training samples", n}, {"batch_size", 32}, ...).
  virtual void begin(Model<T>& model,
                     const std::vector<std::pair<std::string, std::int64_t>>& settings) = 0;
  /// This process's part of global training batch [begin, end), possibly empty.
  virtual std::pair<index_t, index_t> shard(index_t begin, index_t end) = 0;
  /// This process's part [begin, end) of n validation samples (all of them when each process
  /// cannot have one).
  virtual std::pair<index_t, index_t> validation_part(index_t n) const = 0;
  /// Turns this process's gradients of the mean loss over its shard into the gradients of the
  /// mean loss over the global batch (the shard sizes are those of the last `shard` call). An
  /// empty shard contributes zeros, and still takes part.
  virtual void reduce_gradients(const std::vector<Variable<T>>& variables) = 0;
  /// Replaces running logs computed over `samples` local samples by their sample-weighted mean
  /// over every process, so that every process logs and decides the same.
  virtual void reduce_logs(Logs& logs, index_t samples) = 0;
  /// Called once when fit ends normally on this process (a last chance for every process to
  /// hear of a failure in the last callbacks).
  virtual void end() = 0;
  /// Called with the exception that is leaving fit on this process: makes every process stop
  /// (this one with `error`, the others with RankFailedError naming it). fit rethrows `error`
  /// when this returns.
  virtual void fail(std::exception_ptr error) = 0;
};

}  // namespace lamina
