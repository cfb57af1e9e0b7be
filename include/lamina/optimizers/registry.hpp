#pragma once

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <utility>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/optimizers/adadelta.hpp"
#include "lamina/optimizers/adagrad.hpp"
#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/adamax.hpp"
#include "lamina/optimizers/adamw.hpp"
#include "lamina/optimizers/lion.hpp"
#include "lamina/optimizers/nadam.hpp"
#include "lamina/optimizers/optimizer.hpp"
#include "lamina/optimizers/rmsprop.hpp"
#include "lamina/optimizers/sgd.hpp"

namespace lamina {

/// The optimizer a Keras string names, with Keras defaults: "adadelta", "adagrad", "adam",
/// "adamax", "adamw", "lion", "nadam", "rmsprop", "sgd" (case-insensitive). Anything else throws
/// ValueError `unknown optimizer 'foo'; valid names: adadelta, adagrad, ...`.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name) {
  // The one list of optimizer names, sorted (the error message lists them in this order).
  using Factory = std::unique_ptr<Optimizer<T>> (*)();
  static const std::pair<const char*, Factory> table[] = {
      {"adadelta",
       []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Adadelta<T>>(); }},
      {"adagrad", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Adagrad<T>>(); }},
      {"adam", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Adam<T>>(); }},
      {"adamax", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Adamax<T>>(); }},
      {"adamw", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<AdamW<T>>(); }},
      {"lion", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Lion<T>>(); }},
      {"nadam", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<Nadam<T>>(); }},
      {"rmsprop", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<RMSprop<T>>(); }},
      {"sgd", []() -> std::unique_ptr<Optimizer<T>> { return std::make_unique<SGD<T>>(); }},
  };
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string valid;
  for (const auto& [known, make] : table) {
    if (key == known) return make();
    valid += valid.empty() ? known : std::string(", ") + known;
  }
  throw ValueError(detail::cat("unknown optimizer '", name, "'; valid names: ", valid));
}

/// The optimizer of class `class_name` ("Adam", "AdamW", "RMSprop", "SGD", ...) with the
/// hyperparameters of `config` (a get_config()); ValueError naming an unknown class or option.
template <class T>
std::unique_ptr<Optimizer<T>> optimizer_from_config(const std::string& class_name,
                                                    const Json& config) {
  using Factory = std::unique_ptr<Optimizer<T>> (*)(const Json&);
  static const Registry<Factory> registry(
      "optimizer class",
      {{"Adadelta",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Adadelta<T>::from_config(c); }},
       {"Adagrad",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Adagrad<T>::from_config(c); }},
       {"Adam",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Adam<T>::from_config(c); }},
       {"Adamax",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Adamax<T>::from_config(c); }},
       {"AdamW",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return AdamW<T>::from_config(c); }},
       {"Lion",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Lion<T>::from_config(c); }},
       {"Nadam",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return Nadam<T>::from_config(c); }},
       {"RMSprop",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return RMSprop<T>::from_config(c); }},
       {"SGD",
        [](const Json& c) -> std::unique_ptr<Optimizer<T>> { return SGD<T>::from_config(c); }}});
  return registry.get(class_name)(config);
}

}  // namespace lamina
