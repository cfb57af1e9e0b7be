#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/losses/losses.hpp"
#include "lamina/metrics/metrics.hpp"
#include "lamina/optimizers/registry.hpp"

namespace lamina {

/// What compile accepts as an optimizer: a Keras name ("adam") or an optimizer object, which is
/// copied (with its hyperparameters, without state).
template <class T>
class OptimizerArg {
 public:
  OptimizerArg(const char* name) : ptr_(make_optimizer<T>(name)) {}
  OptimizerArg(const std::string& name) : ptr_(make_optimizer<T>(name)) {}
  OptimizerArg(const Optimizer<T>& optimizer) : ptr_(optimizer.clone()) {}
  std::unique_ptr<Optimizer<T>> release() { return std::move(ptr_); }

 private:
  std::unique_ptr<Optimizer<T>> ptr_;
};

/// What compile accepts as a loss: a Keras name ("mse") or a loss object (copied).
template <class T>
class LossArg {
 public:
  LossArg(const char* name) : ptr_(make_loss<T>(name)) {}
  LossArg(const std::string& name) : ptr_(make_loss<T>(name)) {}
  LossArg(const Loss<T>& loss) : ptr_(loss.clone()) {}
  /// Copies clone the loss (a list {"mse", "mae"} of a model's per-output losses is copied).
  LossArg(const LossArg& other) : ptr_(other.ptr_ ? other.ptr_->clone() : nullptr) {}
  LossArg(LossArg&&) noexcept = default;
  LossArg& operator=(LossArg other) noexcept {
    ptr_ = std::move(other.ptr_);
    return *this;
  }
  std::unique_ptr<Loss<T>> release() { return std::move(ptr_); }

 private:
  std::unique_ptr<Loss<T>> ptr_;
};

/// What compile accepts as a metric: a Keras name ("auc", "accuracy"), resolved against the
/// compiled loss, or a metric object (`Precision<float>({.thresholds = 0.7})`), copied.
template <class T>
class MetricArg {
 public:
  MetricArg(const char* name) : name_(name) {}
  MetricArg(std::string name) : name_(std::move(name)) {}
  MetricArg(const Metric<T>& metric) : prototype_(metric.clone()) {}

  /// A fresh metric for a model compiled with the loss `loss_name`.
  std::unique_ptr<Metric<T>> make(const std::string& loss_name) const {
    return prototype_ ? prototype_->clone() : make_metric<T>(name_, loss_name);
  }
  /// How a model file records it: the name, or {"name": ..., "config": ...} for an object,
  /// which make_metric(name, loss, config) rebuilds.
  Json spec() const {
    if (!prototype_) return name_;
    return {{"name", prototype_->config_name()}, {"config", prototype_->get_config()}};
  }

 private:
  std::string name_;
  std::shared_ptr<const Metric<T>> prototype_;
};

}  // namespace lamina
