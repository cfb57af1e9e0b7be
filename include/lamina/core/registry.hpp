#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

/// A table from names to factories: the built-in entries given at construction, plus those
/// that users add (a custom layer or model class). Names match exactly (Keras's class names are
/// case-sensitive). An unknown name is a ValueError listing every valid name, generated from
/// this same table. Safe to use from several threads.
template <class Factory>
class Registry {
 public:
  /// `what` names the kind of entry in messages ("layer class", "model class").
  Registry(std::string what, std::vector<std::pair<std::string, Factory>> builtins)
      : what_(std::move(what)) {
    for (auto& [name, factory] : builtins) table_.emplace(std::move(name), std::move(factory));
  }

  /// Adds (or replaces) the factory of `name`.
  void add(const std::string& name, Factory factory) {
    check<ValueError>(!name.empty(), "register: the ", what_, " name must not be empty");
    std::lock_guard lock(mutex_);
    table_[name] = std::move(factory);
  }
  bool contains(const std::string& name) const {
    std::lock_guard lock(mutex_);
    return table_.count(name) != 0;
  }
  /// The factory of `name`; ValueError `unknown layer class 'Foo'; valid names: ...` otherwise.
  Factory get(const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = table_.find(name);
    if (it != table_.end()) return it->second;
    std::string valid;
    for (const auto& entry : table_) valid += (valid.empty() ? "" : ", ") + entry.first;
    throw ValueError("unknown " + what_ + " '" + name + "'; valid names: " + valid);
  }
  /// Every name, sorted.
  std::vector<std::string> names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : table_) out.push_back(entry.first);
    return out;
  }

 private:
  std::string what_;
  std::map<std::string, Factory> table_;
  mutable std::mutex mutex_;
};

}  // namespace lamina
