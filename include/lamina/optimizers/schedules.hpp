#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <numbers>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/registry.hpp"

namespace lamina {

/// Base of learning-rate schedules (Keras's keras.optimizers.schedules.LearningRateSchedule):
/// the rate as a function of the optimizer's step count, which is 0 at the first step and
/// grows by one per step, as Keras passes `optimizer.iterations`.
///
/// Contract for subclasses: `operator()(step)` returns the rate for `step` >= 0; `class_name()`
/// is the Keras class name; `get_config()` returns the options that the schedule's registered
/// factory (schedule_registry) turns back into the same schedule. Options are validated at
/// construction (ValueError naming the class and option).
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual double operator()(std::int64_t step) const = 0;
  virtual std::string class_name() const = 0;
  virtual Json get_config() const = 0;
};

/// What an optimizer's `learning_rate` option holds: a constant rate or a schedule, so that
/// `Adam({.learning_rate = 3e-4})` and `Adam({.learning_rate = ExponentialDecay({...})})` both
/// read as in Keras.
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}
  template <class S>
  requires std::derived_from<S, LearningRateSchedule> LearningRate(S schedule)
      : schedule_(std::make_shared<S>(std::move(schedule))) {}
  LearningRate(std::shared_ptr<const LearningRateSchedule> schedule)
      : schedule_(std::move(schedule)) {
    check<ValueError>(schedule_ != nullptr, "learning_rate: the schedule must not be null");
  }

  /// The rate at `step` (the constant, or the schedule's value).
  double at(std::int64_t step) const { return schedule_ ? (*schedule_)(step) : value_; }
  /// The schedule, or null for a constant rate.
  const LearningRateSchedule* schedule() const { return schedule_.get(); }

  /// A number, or {"class_name": "ExponentialDecay", "config": {...}} as Keras serialises it.
  Json to_json() const {
    if (!schedule_) return value_;
    return {{"class_name", schedule_->class_name()}, {"config", schedule_->get_config()}};
  }
  /// The rate to_json() describes (schedules through schedule_registry()).
  static LearningRate from_json(const Json& j);

  friend bool operator==(const LearningRate& a, double b) { return !a.schedule_ && a.value_ == b; }
  friend std::ostream& operator<<(std::ostream& out, const LearningRate& lr) {
    return out << lr.to_json().dump();
  }

 private:
  double value_ = 0;
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

inline void to_json(Json& j, const LearningRate& lr) { j = lr.to_json(); }

namespace detail {

/// The schedule classes share their option checks.
inline void check_schedule(bool ok, const char* who, const char* option, double value,
                           const char* what) {
  check<ValueError>(ok, who, ": ", option, " must be ", what, ", got ", value);
}

}  // namespace detail

/// Options of ExponentialDecay.
struct ExponentialDecayOptions {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  double decay_rate = 0.96;
  /// Decay in whole intervals of decay_steps (floor(step / decay_steps)).
  bool staircase = false;
};

/// initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored with
/// staircase (Keras's ExponentialDecay).
class ExponentialDecay : public LearningRateSchedule {
 public:
  explicit ExponentialDecay(ExponentialDecayOptions o = {}) : o_(o) {
    detail::check_schedule(o.initial_learning_rate > 0, "ExponentialDecay", "initial_learning_rate",
                           o.initial_learning_rate, "positive");
    detail::check_schedule(o.decay_steps > 0, "ExponentialDecay", "decay_steps",
                           double(o.decay_steps), "positive");
    detail::check_schedule(o.decay_rate > 0, "ExponentialDecay", "decay_rate", o.decay_rate,
                           "positive");
  }
  double operator()(std::int64_t step) const override {
    double p = double(step) / double(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return o_.initial_learning_rate * std::pow(o_.decay_rate, p);
  }
  std::string class_name() const override { return "ExponentialDecay"; }
  Json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"decay_rate", o_.decay_rate},
            {"staircase", o_.staircase}};
  }
  static ExponentialDecay from_config(ConfigReader& r) {
    ExponentialDecayOptions o;
    o.initial_learning_rate = r.get("initial_learning_rate", o.initial_learning_rate);
    o.decay_steps = r.get("decay_steps", o.decay_steps);
    o.decay_rate = r.get("decay_rate", o.decay_rate);
    o.staircase = r.get("staircase", o.staircase);
    return ExponentialDecay(o);
  }

 private:
  ExponentialDecayOptions o_;
};

/// Options of InverseTimeDecay.
struct InverseTimeDecayOptions {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  double decay_rate = 0.5;
  bool staircase = false;
};

/// initial_learning_rate / (1 + decay_rate * step / decay_steps), the quotient floored with
/// staircase (Keras's InverseTimeDecay).
class InverseTimeDecay : public LearningRateSchedule {
 public:
  explicit InverseTimeDecay(InverseTimeDecayOptions o = {}) : o_(o) {
    detail::check_schedule(o.initial_learning_rate > 0, "InverseTimeDecay", "initial_learning_rate",
                           o.initial_learning_rate, "positive");
    detail::check_schedule(o.decay_steps > 0, "InverseTimeDecay", "decay_steps",
                           double(o.decay_steps), "positive");
    detail::check_schedule(o.decay_rate >= 0, "InverseTimeDecay", "decay_rate", o.decay_rate,
                           "non-negative");
  }
  double operator()(std::int64_t step) const override {
    double p = double(step) / double(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return o_.initial_learning_rate / (1.0 + o_.decay_rate * p);
  }
  std::string class_name() const override { return "InverseTimeDecay"; }
  Json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"decay_rate", o_.decay_rate},
            {"staircase", o_.staircase}};
  }
  static InverseTimeDecay from_config(ConfigReader& r) {
    InverseTimeDecayOptions o;
    o.initial_learning_rate = r.get("initial_learning_rate", o.initial_learning_rate);
    o.decay_steps = r.get("decay_steps", o.decay_steps);
    o.decay_rate = r.get("decay_rate", o.decay_rate);
    o.staircase = r.get("staircase", o.staircase);
    return InverseTimeDecay(o);
  }

 private:
  InverseTimeDecayOptions o_;
};

/// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
/// boundaries[i], values.back() after the last boundary (Keras's PiecewiseConstantDecay).
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<std::int64_t> boundaries, std::vector<double> values)
      : boundaries_(std::move(boundaries)), values_(std::move(values)) {
    check<ValueError>(values_.size() == boundaries_.size() + 1,
                      "PiecewiseConstantDecay: values must have one more entry than boundaries, "
                      "got ",
                      values_.size(), " values and ", boundaries_.size(), " boundaries");
    for (std::size_t i = 1; i < boundaries_.size(); ++i)
      check<ValueError>(boundaries_[i - 1] < boundaries_[i],
                        "PiecewiseConstantDecay: boundaries must increase, got ",
                        boundaries_[i - 1], " before ", boundaries_[i]);
    for (double v : values_)
      detail::check_schedule(v > 0 && std::isfinite(v), "PiecewiseConstantDecay", "each value", v,
                             "positive");
  }
  double operator()(std::int64_t step) const override {
    std::size_t i = 0;
    while (i < boundaries_.size() && step > boundaries_[i]) ++i;
    return values_[i];
  }
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  Json get_config() const override { return {{"boundaries", boundaries_}, {"values", values_}}; }
  static PiecewiseConstantDecay from_config(ConfigReader& r) {
    const Json b = r.get<Json>("boundaries"), v = r.get<Json>("values");
    check<ValueError>(b.is_array() && v.is_array() && b.size() < 100000 && v.size() < 100000,
                      "PiecewiseConstantDecay config: boundaries and values must be lists");
    std::vector<std::int64_t> boundaries;
    std::vector<double> values;
    for (const Json& x : b) {
      check<ValueError>(x.is_number_integer(), "PiecewiseConstantDecay config: boundary ", x.dump(),
                        " is not an integer");
      boundaries.push_back(x.get<std::int64_t>());
    }
    for (const Json& x : v) {
      check<ValueError>(x.is_number(), "PiecewiseConstantDecay config: value ", x.dump(),
                        " is not a number");
      values.push_back(x.get<double>());
    }
    return PiecewiseConstantDecay(std::move(boundaries), std::move(values));
  }

 private:
  std::vector<std::int64_t> boundaries_;
  std::vector<double> values_;
};

/// Options of PolynomialDecay.
struct PolynomialDecayOptions {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  double end_learning_rate = 1e-4;
  double power = 1.0;
  /// Restart the decay each decay_steps (with decay_steps stretched to the next multiple).
  bool cycle = false;
};

/// (initial - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end; with cycle,
/// decay_steps becomes decay_steps * ceil(step / decay_steps) (1 at step 0) (Keras's
/// PolynomialDecay).
class PolynomialDecay : public LearningRateSchedule {
 public:
  explicit PolynomialDecay(PolynomialDecayOptions o = {}) : o_(o) {
    detail::check_schedule(o.initial_learning_rate > 0, "PolynomialDecay", "initial_learning_rate",
                           o.initial_learning_rate, "positive");
    detail::check_schedule(o.decay_steps > 0, "PolynomialDecay", "decay_steps",
                           double(o.decay_steps), "positive");
    detail::check_schedule(o.end_learning_rate >= 0, "PolynomialDecay", "end_learning_rate",
                           o.end_learning_rate, "non-negative");
    detail::check_schedule(o.power > 0, "PolynomialDecay", "power", o.power, "positive");
  }
  double operator()(std::int64_t step) const override {
    double s = double(step), steps = double(o_.decay_steps);
    if (o_.cycle) {
      const double multiplier = step == 0 ? 1.0 : std::ceil(s / steps);
      steps *= multiplier;
    } else {
      s = std::min(s, steps);
    }
    return (o_.initial_learning_rate - o_.end_learning_rate) * std::pow(1.0 - s / steps, o_.power) +
           o_.end_learning_rate;
  }
  std::string class_name() const override { return "PolynomialDecay"; }
  Json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"end_learning_rate", o_.end_learning_rate},
            {"power", o_.power},
            {"cycle", o_.cycle}};
  }
  static PolynomialDecay from_config(ConfigReader& r) {
    PolynomialDecayOptions o;
    o.initial_learning_rate = r.get("initial_learning_rate", o.initial_learning_rate);
    o.decay_steps = r.get("decay_steps", o.decay_steps);
    o.end_learning_rate = r.get("end_learning_rate", o.end_learning_rate);
    o.power = r.get("power", o.power);
    o.cycle = r.get("cycle", o.cycle);
    return PolynomialDecay(o);
  }

 private:
  PolynomialDecayOptions o_;
};

/// Options of CosineDecay.
struct CosineDecayOptions {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  /// The floor, as a fraction of the rate decayed from.
  double alpha = 0.0;
  /// With warmup: the rate rises linearly from initial_learning_rate to warmup_target over
  /// warmup_steps, then decays from warmup_target.
  std::optional<double> warmup_target = std::nullopt;
  std::int64_t warmup_steps = 0;
};

/// Cosine decay (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
/// ICLR 2017) with Keras 3's optional linear warmup (Goyal et al. 2017):
///   decayed(s, from) = from * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
///   no warmup_target: decayed(min(step, decay_steps), initial_learning_rate)
///   otherwise, with s = min(step, decay_steps + warmup_steps):
///     s < warmup_steps: initial + (warmup_target - initial) * s / warmup_steps
///     else:             decayed(s - warmup_steps, warmup_target)
class CosineDecay : public LearningRateSchedule {
 public:
  explicit CosineDecay(CosineDecayOptions o = {}) : o_(o) {
    detail::check_schedule(o.initial_learning_rate >= 0, "CosineDecay", "initial_learning_rate",
                           o.initial_learning_rate, "non-negative");
    detail::check_schedule(o.decay_steps > 0, "CosineDecay", "decay_steps", double(o.decay_steps),
                           "positive");
    detail::check_schedule(o.alpha >= 0 && o.alpha <= 1, "CosineDecay", "alpha", o.alpha,
                           "in [0, 1]");
    detail::check_schedule(o.warmup_steps >= 0, "CosineDecay", "warmup_steps",
                           double(o.warmup_steps), "non-negative");
    if (o.warmup_target)
      detail::check_schedule(*o.warmup_target > 0, "CosineDecay", "warmup_target", *o.warmup_target,
                             "positive");
  }
  double operator()(std::int64_t step) const override {
    const double steps = double(o_.decay_steps);
    if (!o_.warmup_target) return decayed(std::min(double(step), steps), o_.initial_learning_rate);
    const double warmup = double(o_.warmup_steps);
    const double s = std::min(double(step), steps + warmup);
    if (s < warmup)
      return (*o_.warmup_target - o_.initial_learning_rate) * (s / warmup) +
             o_.initial_learning_rate;
    return decayed(s - warmup, *o_.warmup_target);
  }
  std::string class_name() const override { return "CosineDecay"; }
  Json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"alpha", o_.alpha},
            {"warmup_target", o_.warmup_target ? Json(*o_.warmup_target) : Json(nullptr)},
            {"warmup_steps", o_.warmup_steps}};
  }
  static CosineDecay from_config(ConfigReader& r) {
    CosineDecayOptions o;
    o.initial_learning_rate = r.get("initial_learning_rate", o.initial_learning_rate);
    o.decay_steps = r.get("decay_steps", o.decay_steps);
    o.alpha = r.get("alpha", o.alpha);
    o.warmup_target = r.get("warmup_target", o.warmup_target);
    o.warmup_steps = r.get("warmup_steps", o.warmup_steps);
    return CosineDecay(o);
  }

 private:
  double decayed(double s, double from) const {
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * s / double(o_.decay_steps)));
    return from * ((1.0 - o_.alpha) * cosine + o_.alpha);
  }
  CosineDecayOptions o_;
};

/// Options of CosineDecayRestarts.
struct CosineDecayRestartsOptions {
  double initial_learning_rate = 0.01;
  std::int64_t first_decay_steps = 1000;
  /// Each period is t_mul times as long as the one before.
  double t_mul = 2.0;
  /// Each period starts from m_mul times the rate the one before started from.
  double m_mul = 1.0;
  double alpha = 0.0;
};

/// Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017), as Keras's
/// CosineDecayRestarts: with f = step / first_decay_steps, restart i and the fraction c of the
/// current period are i = floor(f), c = f - i when t_mul == 1, else
/// i = floor(log(1 - f (1 - t_mul)) / log(t_mul)), c = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i;
/// the rate is initial * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi c)) + alpha).
class CosineDecayRestarts : public LearningRateSchedule {
 public:
  explicit CosineDecayRestarts(CosineDecayRestartsOptions o = {}) : o_(o) {
    detail::check_schedule(o.initial_learning_rate >= 0, "CosineDecayRestarts",
                           "initial_learning_rate", o.initial_learning_rate, "non-negative");
    detail::check_schedule(o.first_decay_steps > 0, "CosineDecayRestarts", "first_decay_steps",
                           double(o.first_decay_steps), "positive");
    detail::check_schedule(o.t_mul > 0, "CosineDecayRestarts", "t_mul", o.t_mul, "positive");
    detail::check_schedule(o.m_mul > 0, "CosineDecayRestarts", "m_mul", o.m_mul, "positive");
    detail::check_schedule(o.alpha >= 0 && o.alpha <= 1, "CosineDecayRestarts", "alpha", o.alpha,
                           "in [0, 1]");
  }
  double operator()(std::int64_t step) const override {
    double f = double(step) / double(o_.first_decay_steps), i = 0;
    if (o_.t_mul == 1.0) {
      i = std::floor(f);
      f -= i;
    } else {
      i = std::floor(std::log(1.0 - f * (1.0 - o_.t_mul)) / std::log(o_.t_mul));
      const double sum = (1.0 - std::pow(o_.t_mul, i)) / (1.0 - o_.t_mul);
      f = (f - sum) / std::pow(o_.t_mul, i);
    }
    const double cosine = 0.5 * std::pow(o_.m_mul, i) * (1.0 + std::cos(std::numbers::pi * f));
    return o_.initial_learning_rate * ((1.0 - o_.alpha) * cosine + o_.alpha);
  }
  std::string class_name() const override { return "CosineDecayRestarts"; }
  Json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"first_decay_steps", o_.first_decay_steps},
            {"t_mul", o_.t_mul},
            {"m_mul", o_.m_mul},
            {"alpha", o_.alpha}};
  }
  static CosineDecayRestarts from_config(ConfigReader& r) {
    CosineDecayRestartsOptions o;
    o.initial_learning_rate = r.get("initial_learning_rate", o.initial_learning_rate);
    o.first_decay_steps = r.get("first_decay_steps", o.first_decay_steps);
    o.t_mul = r.get("t_mul", o.t_mul);
    o.m_mul = r.get("m_mul", o.m_mul);
    o.alpha = r.get("alpha", o.alpha);
    return CosineDecayRestarts(o);
  }

 private:
  CosineDecayRestartsOptions o_;
};

/// Makes a schedule from its get_config().
using ScheduleFactory = std::shared_ptr<const LearningRateSchedule> (*)(ConfigReader&);

/// The schedule classes an optimizer's config can name (this is their one list).
inline Registry<ScheduleFactory>& schedule_registry() {
  static Registry<ScheduleFactory> registry(
      "learning-rate schedule",
      {
          {"CosineDecay",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<CosineDecay>(CosineDecay::from_config(r));
           }},
          {"CosineDecayRestarts",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<CosineDecayRestarts>(CosineDecayRestarts::from_config(r));
           }},
          {"ExponentialDecay",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<ExponentialDecay>(ExponentialDecay::from_config(r));
           }},
          {"InverseTimeDecay",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<InverseTimeDecay>(InverseTimeDecay::from_config(r));
           }},
          {"PiecewiseConstantDecay",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<PiecewiseConstantDecay>(
                 PiecewiseConstantDecay::from_config(r));
           }},
          {"PolynomialDecay",
           [](ConfigReader& r) -> std::shared_ptr<const LearningRateSchedule> {
             return std::make_shared<PolynomialDecay>(PolynomialDecay::from_config(r));
           }},
      });
  return registry;
}

inline LearningRate LearningRate::from_json(const Json& j) {
  if (j.is_number()) return LearningRate(j.get<double>());
  ConfigReader spec(j, "learning_rate");
  const auto class_name = spec.get<std::string>("class_name");
  const Json config = spec.get<Json>("config");
  spec.finish();
  ConfigReader r(config, class_name);
  const ScheduleFactory make = schedule_registry().get(class_name);
  LearningRate lr(make(r));
  r.finish();
  return lr;
}

}  // namespace lamina
