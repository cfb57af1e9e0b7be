#pragma once

#include <memory>
#include <string>

#include "lamina/losses/losses.hpp"
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
  std::unique_ptr<Loss<T>> release() { return std::move(ptr_); }

 private:
  std::unique_ptr<Loss<T>> ptr_;
};

}  // namespace lamina
