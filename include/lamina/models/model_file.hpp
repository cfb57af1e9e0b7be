#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/io/safetensors.hpp"
#include "lamina/version.hpp"

namespace lamina {

/// Options of Model::save.
struct SaveOptions {
  /// Also save the optimizer's state (Adam's moments and step count, ...), the epochs trained
  /// and the random state of the layers, so that fit(..., {.initial_epoch = model.epoch()})
  /// after load_model continues bit for bit as if training had never stopped (Keras's
  /// include_optimizer).
  bool include_optimizer = true;
};

namespace detail {

/// The model-file format this version writes, and the newest one it reads.
inline constexpr int kModelFormatVersion = 1;
/// Prefix of the optimizer state's tensor names: "optimizer/dense/kernel/m".
inline constexpr const char* kOptimizerPrefix = "optimizer/";

/// The `__metadata__` every lamina file carries: format, version and dtype.
template <class T>
void write_format_metadata(SafetensorsWriter& w, const char* content) {
  w.set_metadata("format", "lamina");
  w.set_metadata("format_version", std::to_string(kModelFormatVersion));
  w.set_metadata("lamina_version", LAMINA_VERSION_STRING);
  w.set_metadata("content", content);
  w.set_metadata("dtype", sizeof(T) == 4 ? "float32" : "float64");
}

/// Checks that f is a lamina file of a format version this build reads.
inline void check_format(const SafetensorsFile& f) {
  const auto& m = f.metadata();
  const auto format = m.find("format");
  check<IoError>(format != m.end() && format->second == "lamina", f.label(),
                 ": not a lamina model file (its __metadata__ has no \"format\": \"lamina\"); "
                 "a plain safetensors file can be read with load_weights");
  const auto version = m.find("format_version");
  check<IoError>(version != m.end(), f.label(), ": the lamina file has no format_version");
  int v = 0;
  try {
    std::size_t used = 0;
    v = std::stoi(version->second, &used);
    check<IoError>(used == version->second.size(), "");
  } catch (const std::exception&) {
    throw IoError(f.label() + ": format_version '" + version->second + "' is not a number");
  }
  check<IoError>(v >= 1 && v <= kModelFormatVersion, f.label(), ": format_version ", v,
                 " is not one this lamina (", LAMINA_VERSION_STRING, ") reads (1 to ",
                 kModelFormatVersion, "); a newer lamina wrote it");
}

/// The JSON of metadata entry `key`, or null when absent; IoError when it is not JSON.
inline Json metadata_json(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  if (it == f.metadata().end()) return nullptr;
  try {
    return Json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(f.label() + ": __metadata__ entry '" + key + "' is not valid JSON (" + e.what() +
                  ")");
  }
}

/// Runs f(); a lamina::Error from it (a config that does not fit, a weight of the wrong shape)
/// is thrown again as an IoError that starts with the file's name.
template <class F>
decltype(auto) in_file(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const IoError&) {
    throw;
  } catch (const Error& e) {
    throw IoError(path + ": " + e.what());
  }
}

/// Copies the file's tensors into the model's weights by name ("dense/kernel"). Every weight
/// must be in the file with its shape, and every tensor of the file outside "optimizer/" must
/// belong to a weight: otherwise an IoError names the weight or tensor.
template <class M>
void assign_weights(M& model, const SafetensorsFile& f) {
  const auto weights = model.named_weights();
  std::set<std::string> known;
  for (const auto& [path, variable] : weights) {
    known.insert(path);
    check<IoError>(f.contains(path), f.label(), ": the model's weight '", path, "' (shape ",
                   variable.shape(), ") is not in the file");
    const auto& e = f.entry(path);
    check<IoError>(e.shape == variable.shape(), f.label(), ": weight '", path, "' has shape ",
                   e.shape, " in the file but ", variable.shape(), " in the model");
  }
  for (const auto& e : f.entries()) {
    if (e.name.rfind(kOptimizerPrefix, 0) == 0) continue;
    check<IoError>(known.count(e.name) != 0, f.label(), ": tensor '", e.name,
                   "' matches no weight of model '", model.name(), "'");
  }
  using T = typename M::value_type;
  for (auto& [path, variable] : weights) {
    Tensor<T> target = variable.value();
    target.assign(f.template tensor<T>(path));
  }
}

/// Restores the optimizer's state (after the model was compiled from the file): the step count
/// and, for each parameter, its state tensors "optimizer/<weight>/<slot>".
template <class M>
void assign_optimizer_state(M& model, const SafetensorsFile& f, const Json& state) {
  auto& optimizer = model.optimizer();
  const auto& parameters = optimizer.parameters();
  std::map<const void*, std::string> path_of;
  for (const auto& [path, variable] : model.named_weights()) path_of[variable.node().get()] = path;
  ConfigReader r(state, "training_state");
  optimizer.set_iterations(r.get<std::int64_t>("optimizer_iterations"));
  r.get<Json>("epoch");
  r.get<Json>("rng");
  r.finish();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::string& path = path_of.at(parameters[i].node().get());
    for (auto& [slot, tensor] : optimizer.state_tensors(i)) {
      const std::string name = kOptimizerPrefix + path + "/" + slot;
      check<IoError>(f.contains(name), f.label(), ": the optimizer state '", name,
                     "' is not in the file");
      check<IoError>(f.entry(name).shape == tensor.shape(), f.label(), ": optimizer state '", name,
                     "' has shape ", f.entry(name).shape, " in the file but ", tensor.shape(),
                     " in the model");
      using T = typename M::value_type;
      tensor.assign(f.template tensor<T>(name));
    }
  }
}

}  // namespace detail

}  // namespace lamina
