#pragma once

/// Model::fit's loop: batching, shuffling, sample and class weights, steps_per_epoch,
/// validation and the callbacks around train_step. Included by model.hpp after the class.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "lamina/models/model.hpp"

namespace lamina {
namespace detail {

/// Keras's class_weight as one weight per sample of y: sample i's class is its integer label
/// (y [n] or [n, 1], rounded) or the argmax of its row (y [n, classes]). ValueError naming the
/// class and the sample when a class has no weight, or naming a weight that is negative or not
/// finite.
template <class T>
Tensor<T> class_weight_to_sample_weight(const std::map<int, double>& class_weight,
                                        const Tensor<T>& y) {
  for (const auto& [cls, weight] : class_weight)
    check<ValueError>(std::isfinite(weight) && weight >= 0.0, "fit: class_weight ", weight,
                      " of class ", cls, " is not a finite, non-negative number");
  const index_t n = y.dim(0);
  const index_t row = y.size() / n;
  Tensor<T> weights = Tensor<T>::empty(Shape({n}));
  for (index_t i = 0; i < n; ++i) {
    const T* r = y.data() + i * row;
    const double label =
        row == 1 ? std::round(double(r[0])) : double(std::max_element(r, r + row) - r);
    const auto it = label >= double(std::numeric_limits<int>::min()) &&
                            label <= double(std::numeric_limits<int>::max())
                        ? class_weight.find(static_cast<int>(label))
                        : class_weight.end();
    check<ValueError>(it != class_weight.end(), "fit: class_weight has no weight for class ", label,
                      " (sample ", i, " of y ", y.shape(), "); give every class a weight");
    weights.data()[i] = T(it->second);
  }
  return weights;
}

/// The sample weights fit trains with, one per sample of y ([n]), from options.sample_weight or
/// options.class_weight; nullopt when neither is given.
template <class T>
std::optional<Tensor<T>> fit_sample_weights(const FitOptions<T>& options, const Tensor<T>* y,
                                            index_t n) {
  const bool weighted = options.sample_weight || !options.class_weight.empty();
  if (!weighted) return std::nullopt;
  check<ValueError>(!(options.sample_weight && !options.class_weight.empty()),
                    "fit: give sample_weight or class_weight, not both");
  check<ValueError>(y != nullptr, "fit: sample_weight and class_weight need targets y");
  if (!options.class_weight.empty()) return class_weight_to_sample_weight(options.class_weight, *y);
  const Tensor<T>& w = *options.sample_weight;
  check<ShapeError>((w.rank() == 1 || (w.rank() == 2 && w.dim(1) == 1)) && w.dim(0) == n,
                    "fit: sample_weight must be [", n, "] (one weight per sample of x), got ",
                    w.shape());
  for (index_t i = 0; i < w.size(); ++i)
    check<ValueError>(std::isfinite(w.data()[i]) && w.data()[i] >= T(0), "fit: sample_weight ",
                      w.data()[i], " of sample ", i, " is not a finite, non-negative number");
  return w.reshape({n});
}

/// Where fit's batches come from with steps_per_epoch (Keras 3's epoch iterator): an epoch
/// continues the current pass over the data; a pass that runs out ends its epoch early, and the
/// next epoch starts a new pass, shuffled with epoch_seed(seed, pass). Without steps_per_epoch
/// each epoch is one pass and pass == epoch.
struct PassPosition {
  int pass = 0;
  index_t step = 0;  // batches of the pass already used
};
inline PassPosition pass_position(int epoch, index_t steps_per_epoch, index_t batches) {
  // Epochs per pass: ceil(batches / steps_per_epoch); the last one may be short.
  const index_t epochs_per_pass = batch_count(batches, steps_per_epoch);
  return {static_cast<int>(epoch / epochs_per_pass), (epoch % epochs_per_pass) * steps_per_epoch};
}

}  // namespace detail

template <class T>
History Model<T>::run_fit(const ModelInput<T>& x, const Tensor<T>* y, FitOptions<T> options) {
  if (!options.strategy) return fit_loop(x, y, options);
  // A strategy hears of every exception leaving fit, so that the other processes stop too.
  const std::shared_ptr<FitStrategy<T>> strategy = options.strategy;
  strategy_ = strategy.get();
  try {
    History history = fit_loop(x, y, options);
    strategy->end();
    strategy_ = nullptr;
    return history;
  } catch (const RankFailedError&) {
    strategy_ = nullptr;
    throw;  // another process failed; every process knows already
  } catch (...) {
    strategy_ = nullptr;
    strategy->fail(std::current_exception());
    throw;
  }
}

template <class T>
History Model<T>::fit_loop(const ModelInput<T>& x, const Tensor<T>* y, FitOptions<T>& options) {
  require_compiled("fit");
  check_data("fit", x, y);
  check<ValueError>(options.epochs > 0, "fit: epochs must be positive, got ", options.epochs);
  check<ValueError>(options.initial_epoch >= 0, "fit: initial_epoch must be non-negative, got ",
                    options.initial_epoch);
  check<ValueError>(options.batch_size > 0, "fit: batch_size must be positive, got ",
                    options.batch_size);
  check<ValueError>(options.validation_split >= 0.0 && options.validation_split < 1.0,
                    "fit: validation_split must be in [0, 1), got ", options.validation_split);
  check<ValueError>(options.validation_freq > 0, "fit: validation_freq must be positive, got ",
                    options.validation_freq);
  check<ValueError>(options.steps_per_epoch >= 0,
                    "fit: steps_per_epoch must be positive (or 0 for one pass), got ",
                    options.steps_per_epoch);
  ModelInput<T> x_train = x;
  std::optional<Tensor<T>> y_train;
  if (y) y_train = *y;
  std::optional<Tensor<T>> w_train = detail::fit_sample_weights(options, y, x.shape()[0]);
  std::optional<std::pair<ModelInput<T>, Tensor<T>>> validation;
  if (options.validation_data) {
    validation.emplace(options.validation_data->first, options.validation_data->second);
    check_data("fit (validation_data)", validation->first, &validation->second);
  } else if (options.validation_split > 0.0) {
    check<ValueError>(y != nullptr, "fit: validation_split needs targets y");
    const index_t all = x.shape()[0];
    const auto split = static_cast<index_t>(double(all) * (1.0 - options.validation_split));
    check<ValueError>(split > 0 && split < all, "fit: validation_split ", options.validation_split,
                      " of ", all, " samples leaves no training or no validation samples");
    x_train = x.slice(0, split);
    y_train = y->slice(0, split);
    if (w_train) w_train = w_train->slice(0, split);
    validation.emplace(x.slice(split, all), y->slice(split, all));
  }
  fit_seed_ = options.seed;
  prepare(x_train.shape());
  if (y_train && loss_) check_targets(x_train, *y_train);
  if (validation) check_targets(validation->first, validation->second);

  const index_t n = x_train.shape()[0];
  const index_t batches = detail::batch_count(n, options.batch_size);
  const index_t steps = options.steps_per_epoch > 0 ? options.steps_per_epoch : batches;
  FitStrategy<T>* const strategy = options.strategy.get();
  check<ValueError>(!strategy || optimizer_, name_,
                    ": a model with its own optimizers (a GAN) cannot fit with a strategy");
  const bool chief = !strategy || strategy->chief();  // prints and writes files
  if (strategy)
    strategy->begin(*this, {{"training samples", n},
                            {"validation samples", validation ? validation->first.shape()[0] : 0},
                            {"batch_size", options.batch_size},
                            {"steps_per_epoch", steps},
                            {"epochs", options.epochs},
                            {"initial_epoch", options.initial_epoch},
                            {"validation_freq", options.validation_freq},
                            {"shuffle", options.shuffle},
                            {"seed", static_cast<std::int64_t>(options.seed)}});
  std::vector<index_t> order(static_cast<std::size_t>(n));
  int order_pass = -1;
  History history;
  std::vector<CallbackArg<T>> user;
  for (const CallbackArg<T>& c : options.callbacks)
    if (chief || !c.get()->writes_files()) user.push_back(c);
  if (options.on_epoch_end)
    user.push_back(LambdaCallback<T>(
        {.on_epoch_end = [f = options.on_epoch_end](int e, Logs& l) { f(e, l); }}));
  detail::CallbackList<T> callbacks(*this,
                                    {.epochs = options.epochs,
                                     .steps = steps,
                                     .verbose = chief ? options.verbose : 0,
                                     .output = options.output ? options.output : &std::cout},
                                    user, history);
  stop_training = false;
  Logs logs;
  callbacks.call(&Callback<T>::on_train_begin, logs);
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    detail::PassPosition at = detail::pass_position(epoch, steps, batches);
    if (at.pass != order_pass) {
      Generator shuffler(detail::epoch_seed(options.seed, at.pass));
      detail::epoch_order(order, options.shuffle, shuffler);
      order_pass = at.pass;
    }
    reset_metrics();
    logs.clear();
    callbacks.call(&Callback<T>::on_epoch_begin, epoch, logs);
    set_training(true);
    bool completed = true;
    index_t seen = 0;  // samples this process trained on in this epoch
    for (index_t step = 0; step < steps && at.step < batches; ++step, ++at.step) {
      Logs batch_logs;
      callbacks.call(&Callback<T>::on_train_batch_begin, step, batch_logs);
      index_t begin = at.step * options.batch_size;
      index_t end = std::min(n, begin + options.batch_size);
      if (strategy) std::tie(begin, end) = strategy->shard(begin, end);
      place_ = {"fit", epoch + 1, step + 1, steps};
      if (begin == end) {  // a global batch smaller than the number of processes
        optimizer_->zero_grad();
        strategy->reduce_gradients(optimizer_->parameters());
        optimizer_->step();
        logs = metric_logs();
      } else {
        const Tensor<T> xb = x_train.gather(order, begin, end);
        const Tensor<T> yb =
            y_train ? detail::gather_rows(*y_train, order, begin, end) : Tensor<T>();
        const Tensor<T> wb =
            w_train ? detail::gather_rows(*w_train, order, begin, end) : Tensor<T>();
        try {
          logs = train_step(xb, y_train ? &yb : nullptr, w_train ? &wb : nullptr);
        } catch (const NonFiniteError&) {
          // Distributed, a non-finite loss stops every process (the others cannot go on alone).
          if (strategy || !callbacks.handles_non_finite_loss()) throw;
          logs["loss"] = std::numeric_limits<double>::quiet_NaN();
        }
      }
      seen += end - begin;
      if (strategy) strategy->reduce_logs(logs, seen);
      callbacks.call(&Callback<T>::on_train_batch_end, step, logs);
      if (stop_training) {
        completed = step + 1 == steps || at.step + 1 == batches;
        break;
      }
    }
    set_training(false);
    if (validation && (epoch + 1) % options.validation_freq == 0) {
      // With a strategy each process evaluates its shard (all of it when it has fewer samples
      // than there are processes) and the results are reduced.
      const index_t all = validation->first.shape()[0];
      const auto [vb, ve] =
          strategy ? strategy->validation_part(all) : std::pair<index_t, index_t>{0, all};
      Logs val =
          evaluate_batches("fit (validation)", validation->first.slice(vb, ve),
                           validation->second.slice(vb, ve), {.batch_size = options.batch_size});
      if (strategy) strategy->reduce_logs(val, ve - vb);
      for (const auto& [key, value] : val) logs["val_" + key] = value;
      check_validation_loss(logs["val_loss"], epoch + 1, validation->first, validation->second);
    }
    if (optimizer_ && optimizer_->learning_rate_setting().schedule())
      logs["learning_rate"] = optimizer_->learning_rate();
    if (completed) epoch_ = epoch + 1;
    callbacks.call(&Callback<T>::on_epoch_end, epoch, logs);
  }
  // Keras 3: with use_ema the weights become their moving averages when a fit that ran ends.
  if (optimizer_ && options.initial_epoch < options.epochs) optimizer_->finalize_variable_values();
  callbacks.call(&Callback<T>::on_train_end, logs);
  return history;
}

}  // namespace lamina
