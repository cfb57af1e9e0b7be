#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/optimizers/schedules.hpp"

namespace lamina {

namespace detail {

/// Calls f(begin, end) on consecutive blocks of [0, n) that together cover it: one block for a
/// small parameter, blocks on all threads for a large one. An optimizer's update is elementwise,
/// so its blocks are independent; `work` is the arithmetic per element (as multiply-adds).
template <class F>
void for_each_block(index_t n, double work, F&& f) {
  const int threads = threads_for(static_cast<double>(n) * work);
  // Blocks are whole 64-byte lines of float, so that no two threads write the same line.
  parallel_for(n, split_grain(n, threads, 64), threads,
               [&](index_t begin, index_t end, int) { f(begin, end); });
}

}  // namespace detail

/// The options every optimizer has besides its learning rate (Keras 3's base
/// `keras.optimizers.Optimizer` arguments), as each Options struct carries them.
struct CommonOptimizerOptions {
  /// Decoupled weight decay: before its update, each parameter with a gradient becomes
  /// p - p * weight_decay * lr (Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
  /// ICLR 2019, as Keras 3 applies it in the base optimizer); >= 0.
  std::optional<double> weight_decay;
  /// Gradient clipping; at most one of the three is set, each > 0.
  std::optional<double> clipnorm, clipvalue, global_clipnorm;
  /// Keras's exponential moving average of the weights: after each step every parameter's
  /// average becomes ema_momentum * average + (1 - ema_momentum) * p (the parameter itself at
  /// the first step); every ema_overwrite_frequency steps (when set) and at the end of fit
  /// (finalize_variable_values) the parameters are overwritten with their averages.
  bool use_ema = false;
  double ema_momentum = 0.99;
  std::optional<std::int64_t> ema_overwrite_frequency;
};

/// Base of the optimizers (SGD, Adam, RMSprop, ...), following Keras 3's
/// `keras.optimizers.Optimizer`.
///
/// Contract. The base holds the parameter list, the learning rate, the iteration count, the
/// options of CommonOptimizerOptions and the moving averages of use_ema; at each step it clips
/// the gradients, applies the weight decay, calls the subclass once per parameter and updates
/// the moving averages. A subclass:
///  - keeps one state struct per parameter in a vector indexed like parameters() (never keyed by
///    data pointers; detail::OptimizerWithOptions below holds it for the built-in optimizers) and
///    rearranges it in `remap_state(from)`: parameters() already holds the new list there, and
///    the new state i is the old state from[i], or zero-filled when from[i] is kNewParameter;
///  - implements `update(i, value, grad)`: update parameter i's `value` in place from its
///    (already clipped) gradient `grad` of the same shape. It may assume that `value` has the
///    shape it had when the parameter was added, and that iterations() is the number of
///    completed steps (Keras's `local_step` is iterations() + 1);
///  - implements `name()` (the Keras string) and `clone()` (same hyperparameters, no state).
/// Optimizers are movable but not copyable (copies would share state buffers); use clone().
template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) noexcept = default;
  Optimizer& operator=(Optimizer&&) noexcept = default;

  /// Marks a parameter new to remap_state().
  static constexpr std::size_t kNewParameter = static_cast<std::size_t>(-1);

  /// Keras name: "sgd", "adam", "rmsprop", ...
  virtual std::string name() const = 0;
  /// Keras class name: "SGD", "Adam", "RMSprop", "AdamW", ...
  const std::string& class_name() const { return who_; }
  /// The hyperparameters with the current learning rate (Keras's get_config), from which the
  /// class's from_config makes the same optimizer: {"learning_rate": 0.001, "beta_1": 0.9, ...}.
  virtual Json get_config() const = 0;
  /// The state of parameter i (after build()) by name, e.g. {"m", m}, {"v", v} for Adam:
  /// tensors that share their storage with the optimizer's, so that assigning to them restores a
  /// saved state. Empty for a stateless optimizer (SGD without momentum).
  virtual std::vector<std::pair<std::string, Tensor<T>>> state_tensors(std::size_t i) = 0;
  /// A copy with the same hyperparameters and no parameters or state (models clone what users
  /// pass to compile).
  virtual std::unique_ptr<Optimizer<T>> clone() const = 0;

  /// Sets the parameters to update and resets all state and the iteration count.
  void build(std::vector<Variable<T>> parameters) {
    parameters_ = std::move(parameters);
    shapes_.clear();
    for (const Variable<T>& p : parameters_) shapes_.push_back(p.shape());
    iterations_ = 0;
    averages_.clear();
    for (std::size_t i = 0; i < parameters_.size(); ++i) averages_.push_back(new_average(i));
    remap_state(std::vector<std::size_t>(parameters_.size(), kNewParameter));
    built_ = true;
  }
  /// Makes `parameters` the list updated from the next step on, keeping the iteration count and
  /// the state of every parameter already known (the same variable, not merely equal values):
  /// a new parameter gets zero-filled state when first seen, as tf.keras optimizers created
  /// slots for new variables (Keras 3 raises instead), and a known parameter left out is no
  /// longer updated and its state is dropped. Builds when not built yet. Models call it at the
  /// start of each fit with their current trainable variables, so that a layer added after
  /// training is trained, and one made non-trainable is not.
  void set_parameters(std::vector<Variable<T>> parameters) {
    if (!built_) {
      build(std::move(parameters));
      return;
    }
    std::vector<std::size_t> from;
    std::vector<Shape> shapes;
    for (const Variable<T>& p : parameters) {
      const auto known = std::find_if(parameters_.begin(), parameters_.end(),
                                      [&](const Variable<T>& q) { return q.node() == p.node(); });
      const bool is_new = known == parameters_.end();
      from.push_back(is_new ? kNewParameter
                            : static_cast<std::size_t>(known - parameters_.begin()));
      shapes.push_back(is_new ? p.shape() : shapes_[from.back()]);
    }
    parameters_ = std::move(parameters);
    shapes_ = std::move(shapes);
    std::vector<Tensor<T>> averages;
    for (std::size_t i = 0; i < from.size(); ++i)
      averages.push_back(from[i] == kNewParameter ? new_average(i) : averages_[from[i]]);
    averages_ = std::move(averages);
    remap_state(from);
  }
  /// Whether build() has been called.
  bool built() const { return built_; }

  /// One update of every parameter that has a gradient, then iterations() += 1, so bias
  /// correction advances once per step. As in Keras 3, the gradients are clipped first
  /// (clipnorm, clipvalue or global_clipnorm, the last over all gradients of the step), then
  /// each such parameter decays by weight_decay * lr, then the subclass updates it. Parameters
  /// that never received a gradient are skipped; when none has one the step does nothing at all
  /// and iterations() stays put (as Keras's apply() with only empty gradients).
  void step() {
    check(built_, name(), ": step() called before build(parameters)");
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      const Variable<T>& p = parameters_[i];
      if (!p.has_grad()) continue;
      check<ShapeError>(p.shape() == shapes_[i], name(), ": parameter ", i, " has shape ",
                        p.shape(), " but had shape ", shapes_[i], " when it was added");
      live.push_back(i);
    }
    if (live.empty()) return;
    double scale = 1;  // global_clipnorm: g * c / max(||all g||_2, c)
    if (common_.global_clipnorm) {
      double sum = 0;
      for (std::size_t i : live) sum += squared_norm(parameters_[i].grad());
      scale = *common_.global_clipnorm / std::max(std::sqrt(sum), *common_.global_clipnorm);
    }
    const double decay = common_.weight_decay.value_or(0) * learning_rate();
    for (std::size_t i : live) {
      Variable<T>& p = parameters_[i];
      Tensor<T> g = clipped(p.grad(), scale);
      if (decay > 0) decay_weights(p.value(), static_cast<T>(decay));
      update(i, p.value(), g);
    }
    if (common_.use_ema) update_averages();
    ++iterations_;
  }

  /// With use_ema, overwrites every parameter with its moving average (Keras's
  /// finalize_variable_values, which fit calls when it ends); otherwise does nothing.
  void finalize_variable_values() {
    if (!common_.use_ema) return;
    for (std::size_t i = 0; i < parameters_.size(); ++i)
      parameters_[i].value().assign(averages_[i]);
  }

  /// Zeroes every parameter's gradient.
  void zero_grad() {
    for (Variable<T>& p : parameters_) p.zero_grad();
  }

  /// The learning rate of the next step: the constant, or the schedule's value at iterations().
  double learning_rate() const { return learning_rate_.at(iterations_); }
  /// The learning-rate option itself: a constant or a schedule.
  const LearningRate& learning_rate_setting() const { return learning_rate_; }
  /// Changes the (constant) learning rate used from the next step on (e.g. between epochs); must
  /// be positive. An optimizer whose rate follows a schedule refuses, as Keras does.
  void set_learning_rate(double learning_rate) {
    check<ValueError>(learning_rate_.schedule() == nullptr, who_,
                      ": the learning rate follows a schedule (",
                      learning_rate_.schedule() ? learning_rate_.schedule()->class_name() : "",
                      "); set_learning_rate cannot change it");
    check_positive(learning_rate, "learning_rate");
    learning_rate_ = learning_rate;
  }
  /// Number of completed steps since build().
  std::int64_t iterations() const { return iterations_; }
  /// Restores the step count of a saved state (it drives Adam's bias correction).
  void set_iterations(std::int64_t n) {
    check<ValueError>(n >= 0, name(), ": iterations must be non-negative, got ", n);
    iterations_ = n;
  }
  const std::vector<Variable<T>>& parameters() const { return parameters_; }
  std::optional<double> clipnorm() const { return common_.clipnorm; }
  std::optional<double> clipvalue() const { return common_.clipvalue; }
  std::optional<double> global_clipnorm() const { return common_.global_clipnorm; }
  std::optional<double> weight_decay() const { return common_.weight_decay; }
  bool use_ema() const { return common_.use_ema; }
  double ema_momentum() const { return common_.ema_momentum; }

 protected:
  /// Validates the options every optimizer shares; `who` is the class name used in messages.
  Optimizer(std::string who, LearningRate learning_rate, CommonOptimizerOptions common)
      : who_(std::move(who)), learning_rate_(std::move(learning_rate)), common_(common) {
    if (!learning_rate_.schedule()) check_positive(learning_rate_.at(0), "learning_rate");
    if (common.weight_decay) check_non_negative(*common.weight_decay, "weight_decay");
    if (common.clipnorm) check_positive(*common.clipnorm, "clipnorm");
    if (common.clipvalue) check_positive(*common.clipvalue, "clipvalue");
    if (common.global_clipnorm) check_positive(*common.global_clipnorm, "global_clipnorm");
    check_unit_closed(common.ema_momentum, "ema_momentum");
    if (common.ema_overwrite_frequency)
      check<ValueError>(*common.ema_overwrite_frequency > 0, who_,
                        ": ema_overwrite_frequency must be positive, got ",
                        *common.ema_overwrite_frequency);
    const int clips = int(common.clipnorm.has_value()) + int(common.clipvalue.has_value()) +
                      int(common.global_clipnorm.has_value());
    check<ValueError>(clips <= 1, who_,
                      ": only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                      "clipnorm=",
                      common.clipnorm.value_or(0), ", clipvalue=", common.clipvalue.value_or(0),
                      ", global_clipnorm=", common.global_clipnorm.value_or(0));
  }

  /// Rearranges the state for the new parameters(): state i becomes the old state from[i], or
  /// zero-filled state for parameter i when from[i] is kNewParameter.
  virtual void remap_state(const std::vector<std::size_t>& from) = 0;
  /// Updates parameter i's value in place from its gradient (see the contract above).
  virtual void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) = 0;

  /// Throws ValueError `<Class>: <option> must be positive, got <value>` unless value > 0.
  void check_positive(double value, const char* option) const {
    check<ValueError>(value > 0 && std::isfinite(value), who_, ": ", option,
                      " must be positive, got ", value);
  }
  /// Throws ValueError `<Class>: <option> must be non-negative, got <value>` unless value >= 0.
  void check_non_negative(double value, const char* option) const {
    check<ValueError>(value >= 0 && std::isfinite(value), who_, ": ", option,
                      " must be non-negative, got ", value);
  }
  /// Throws ValueError `<Class>: <option> must be in [0, 1], got <value>` unless 0 <= value <= 1.
  void check_unit_closed(double value, const char* option) const {
    check<ValueError>(value >= 0 && value <= 1, who_, ": ", option, " must be in [0, 1], got ",
                      value);
  }
  /// Throws ValueError `<Class>: <option> must be in [0, 1), got <value>` unless 0 <= value < 1.
  void check_unit_half_open(double value, const char* option) const {
    check<ValueError>(value >= 0 && value < 1, who_, ": ", option, " must be in [0, 1), got ",
                      value);
  }
  /// Parameter i's moving average (use_ema), sharing its storage with the optimizer's.
  Tensor<T> average(std::size_t i) const { return averages_.at(i); }
  /// A zero tensor shaped like parameter i (for the zero-filled state of a new parameter).
  Tensor<T> zeros_like_parameter(std::size_t i) const {
    return Tensor<T>::zeros(parameters_.at(i).shape());
  }

 private:
  static double squared_norm(const Tensor<T>& g) {
    double sum = 0;
    for (T v : g) sum += static_cast<double>(v) * static_cast<double>(v);
    return sum;
  }
  /// The gradient after Keras's clipping: clipnorm scales each gradient by
  /// clipnorm / max(||g||_2, clipnorm); clipvalue clips each element to [-clipvalue, clipvalue];
  /// global_clipnorm multiplies by `global_scale`, computed over all gradients by step().
  Tensor<T> clipped(Tensor<T> g, double global_scale) const {
    double scale = global_scale;
    if (common_.clipnorm) {
      const double norm = std::sqrt(squared_norm(g));
      if (norm > *common_.clipnorm) scale = *common_.clipnorm / norm;
    }
    if (scale != 1) {
      const T s = static_cast<T>(scale);
      Tensor<T> out = Tensor<T>::empty(g.shape());
      std::transform(g.begin(), g.end(), out.begin(), [s](T v) { return v * s; });
      return out;
    }
    if (common_.clipvalue) {
      const T c = static_cast<T>(*common_.clipvalue);
      Tensor<T> out = Tensor<T>::empty(g.shape());
      std::transform(g.begin(), g.end(), out.begin(), [c](T v) { return std::clamp(v, -c, c); });
      return out;
    }
    return g;
  }
  /// The moving average a parameter starts with: itself (Keras starts from zeros, but its first
  /// step replaces them by the parameter; this also serves a parameter added later).
  Tensor<T> new_average(std::size_t i) const {
    return common_.use_ema ? parameters_[i].value().clone() : Tensor<T>();
  }
  /// average = m * average + (1 - m) * p with m = ema_momentum (0 at the very first step), then
  /// the overwrite every ema_overwrite_frequency steps, as Keras 3's _backend_apply_gradients.
  void update_averages() {
    const T m = iterations_ == 0 ? T(0) : static_cast<T>(common_.ema_momentum);
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      T* const a = averages_[i].data();
      const T* const p = parameters_[i].value().data();
      detail::for_each_block(averages_[i].size(), 2, [&](index_t begin, index_t end) {
        auto ab = detail::array(a + begin, end - begin);
        ab = m * ab + (T(1) - m) * detail::array(p + begin, end - begin);
      });
    }
    const auto every = common_.ema_overwrite_frequency;
    if (every && (iterations_ + 1) % *every == 0) finalize_variable_values();
  }
  /// p -= p * rate (rate = weight_decay * lr).
  static void decay_weights(Tensor<T>& value, T rate) {
    T* const p = value.data();
    detail::for_each_block(value.size(), 2, [&](index_t begin, index_t end) {
      auto pb = detail::array(p + begin, end - begin);
      pb -= pb * rate;
    });
  }

  std::string who_;
  LearningRate learning_rate_;
  CommonOptimizerOptions common_;
  std::vector<Variable<T>> parameters_;
  std::vector<Shape> shapes_;
  std::vector<Tensor<T>> averages_;  // use_ema: one per parameter; empty tensors otherwise
  std::int64_t iterations_ = 0;
  bool built_ = false;
};

namespace detail {

/// What the built-in optimizers share beyond Optimizer: their options struct (Options has
/// learning_rate and the CommonOptimizerOptions fields weight_decay, clipnorm, clipvalue and
/// global_clipnorm), one State per parameter, and clone() from the options.
/// Self lists its own options once, in `template <class F> static void fields(Options&, F f)`
/// calling f("beta_1", options.beta_1) for each, and its state tensors once, in
/// `static auto slots(State&)` returning {name, Tensor<T>*} pairs; get_config, from_config and
/// state_tensors follow from those lists. Self makes the zero-filled state of parameter i in
/// `State make_state(std::size_t i) const` (reachable from this base) for remap_state.
template <class T, class Self, class Options, class State>
class OptimizerWithOptions : public Optimizer<T> {
 public:
  std::unique_ptr<Optimizer<T>> clone() const override { return std::make_unique<Self>(options()); }
  Json get_config() const override {
    Options o = options();
    Json c = Json::object();
    all_fields(o, [&](const char* key, auto& value) {
      if constexpr (requires { value.has_value(); })
        c[key] = value ? Json(*value) : Json(nullptr);
      else
        c[key] = value;
    });
    return c;
  }
  /// The optimizer a get_config() describes (ValueError naming an unknown or mistyped option).
  static std::unique_ptr<Self> from_config(const Json& config) {
    ConfigReader r(config, Self(Options{}).class_name());
    Options o;
    all_fields(o, [&](const char* key, auto& value) {
      value = r.get(key, std::decay_t<decltype(value)>(value));
    });
    r.finish();
    return std::make_unique<Self>(o);
  }
  std::vector<std::pair<std::string, Tensor<T>>> state_tensors(std::size_t i) override {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (auto [name, tensor] : Self::slots(state_.at(i)))
      if (tensor->size() > 0) out.emplace_back(name, *tensor);
    if (this->use_ema()) out.emplace_back("average", this->average(i));
    return out;
  }
  /// The options, with the current learning rate.
  Options options() const {
    Options o = options_;
    o.learning_rate = this->learning_rate_setting();
    return o;
  }
  /// State of parameter i (after build()).
  const State& state(std::size_t i) const { return state_.at(i); }

 protected:
  OptimizerWithOptions(std::string who, const Options& options)
      : Optimizer<T>(
            std::move(who), options.learning_rate,
            {options.weight_decay, options.clipnorm, options.clipvalue, options.global_clipnorm,
             options.use_ema, options.ema_momentum, options.ema_overwrite_frequency}),
        options_(options) {}

  void remap_state(const std::vector<std::size_t>& from) override {
    std::vector<State> next;
    next.reserve(from.size());
    for (std::size_t i = 0; i < from.size(); ++i)
      next.push_back(from[i] == Optimizer<T>::kNewParameter
                         ? static_cast<const Self&>(*this).make_state(i)
                         : std::move(state_.at(from[i])));
    state_ = std::move(next);
  }

  Options options_;
  std::vector<State> state_;

 private:
  template <class F>
  static void all_fields(Options& o, F&& f) {
    f("learning_rate", o.learning_rate);
    Self::fields(o, f);
    f("weight_decay", o.weight_decay);
    f("clipnorm", o.clipnorm);
    f("clipvalue", o.clipvalue);
    f("global_clipnorm", o.global_clipnorm);
    f("use_ema", o.use_ema);
    f("ema_momentum", o.ema_momentum);
    f("ema_overwrite_frequency", o.ema_overwrite_frequency);
  }
};

}  // namespace detail

}  // namespace lamina
