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
#include "lamina/layers/layer.hpp"
#include "lamina/losses/losses.hpp"
#include "lamina/models/compile_args.hpp"
#include "lamina/optimizers/registry.hpp"
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

/// Model::save and Model::restore (a friend of Model, so that the file format lives here).
struct ModelFile {
  template <class M>
  static void save(const M& model, const std::string& path, const SaveOptions& options);

  template <class M>
  static void restore(M& model, const SafetensorsFile& f);

 private:
  template <class Weights>
  static std::map<const void*, std::string> paths_by_node(const Weights& weights) {
    std::map<const void*, std::string> out;
    for (const auto& [path, variable] : weights) out[variable.node().get()] = path;
    return out;
  }

  /// The optimizer's state tensors "optimizer/<weight>/<slot>" for each parameter.
  template <class M>
  static void assign_optimizer_state(M& model, const SafetensorsFile& f);
};

// Defined outside the class, so not inline: a program built with extern_templates.hpp compiles
// them once, in the instantiation unit, rather than in every file that may inline them.
template <class M>
void ModelFile::save(const M& model, const std::string& path, const SaveOptions& options) {
  check<ValueError>(!model.class_name().empty(), model.name_,
                    ": save() needs to record the architecture, and this model class has no "
                    "class_name(); override class_name() and get_config() and "
                    "register_model() a factory, or use save_weights()");
  check<ValueError>(model.build_input_shape_.has_value(), model.name_,
                    ": save() needs a built model; call build(input_shape) or fit() first");
  SafetensorsWriter w;
  write_format_metadata<typename M::value_type>(w, "model");
  w.set_metadata("model_config", model.spec().dump());
  const auto weights = model.named_weights();
  for (const auto& [name, variable] : weights) w.add(name, variable.value());
  // A model with its own optimizers (GAN) saves its architecture and weights only.
  if (model.optimizer_ && model.loss_) {
    const auto loss_spec = [](const auto& loss) {
      return Json{{"name", loss.name()}, {"config", loss.get_config()}};
    };
    Json config{{"optimizer",
                 {{"class_name", model.optimizer_->class_name()},
                  {"config", model.optimizer_->get_config()}}}};
    if (model.outputs_.empty()) {
      config["loss"] = loss_spec(*model.loss_);
    } else {  // a functional model of several outputs: one loss each, and their weights
      config["losses"] = Json::array();
      for (const auto& loss : model.outputs_.losses()) config["losses"].push_back(loss_spec(*loss));
      config["loss_weights"] = model.outputs_.weights();
    }
    config["metrics"] = model.metric_specs_;
    w.set_metadata("compile_config", config.dump());
  }
  if (!options.include_optimizer || !model.optimizer_ || !model.optimizer_built_) {
    w.write(path);
    return;
  }
  Json rng = Json::object();
  for (const auto& [name, layer] : model.layer_paths()) {
    const std::string state = layer->rng_state();
    if (!state.empty()) rng[name] = state;
  }
  auto& optimizer = *model.optimizer_;
  w.set_metadata(
      "training_state",
      Json{{"epoch", model.epoch_}, {"optimizer_iterations", optimizer.iterations()}, {"rng", rng}}
          .dump());
  const auto paths = paths_by_node(weights);
  const auto& parameters = optimizer.parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    for (const auto& [slot, tensor] : optimizer.state_tensors(i))
      w.add(kOptimizerPrefix + paths.at(parameters[i].node().get()) + "/" + slot, tensor);
  }
  w.write(path);
}

template <class M>
void ModelFile::restore(M& model, const SafetensorsFile& f) {
  using T = typename M::value_type;
  in_file(f.label(), [&] {
    assign_weights(model, f);
    const Json compile_config = metadata_json(f, "compile_config");
    if (compile_config.is_null()) return;
    ConfigReader r(compile_config, "compile_config");
    ConfigReader o(r.get<Json>("optimizer"), "compile_config optimizer");
    auto optimizer =
        optimizer_from_config<T>(o.get<std::string>("class_name"), o.get<Json>("config"));
    o.finish();
    const auto read_loss = [](const Json& spec) {
      ConfigReader l(spec, "compile_config loss");
      auto loss = make_loss<T>(l.get<std::string>("name"), l.get<Json>("config", Json::object()));
      l.finish();
      return loss;
    };
    const Json several = r.get<Json>("losses", nullptr);
    check<ValueError>(several.is_null() || (several.is_array() && !several.empty()),
                      "compile_config: losses must be a non-empty list, got ", several.dump());
    auto loss = read_loss(several.is_null() ? r.get<Json>("loss") : Json(several.at(0)));
    std::vector<MetricArg<T>> metrics;
    for (const Json& m : r.get<Json>("metrics", Json::array())) {
      if (m.is_string()) {
        metrics.emplace_back(m.get<std::string>());
        continue;
      }
      check<ValueError>(m.is_object(),
                        "compile_config: a metric is neither a name nor an "
                        "object: ",
                        m.dump());
      ConfigReader mr(m, "compile_config metric");
      const auto metric = make_metric<T>(mr.get<std::string>("name"), loss->name(),
                                         mr.get<Json>("config", Json::object()));
      mr.finish();
      metrics.emplace_back(*metric);
    }
    if (several.is_null()) {
      r.finish();
      model.compile(*optimizer, *loss, metrics);
    } else {
      std::vector<LossArg<T>> losses;
      for (const Json& spec : several) losses.emplace_back(*read_loss(spec));
      const Json weight_list = r.get<Json>("loss_weights");
      check<ValueError>(weight_list.is_array() && weight_list.size() == several.size(),
                        "compile_config: loss_weights must be a list of ", several.size(),
                        " numbers, got ", weight_list.dump());
      std::vector<double> weights;
      for (const Json& x : weight_list) {
        check<ValueError>(x.is_number(),
                          "compile_config: a loss weight is not a number: ", x.dump());
        weights.push_back(x.get<double>());
      }
      r.finish();
      model.compile(*optimizer, std::move(losses), metrics, weights);
    }

    const Json state = metadata_json(f, "training_state");
    if (state.is_null()) return;
    ConfigReader s(state, "training_state");
    const auto iterations = s.get<std::int64_t>("optimizer_iterations");
    const auto epoch = s.get<int>("epoch");
    const Json rng = s.get<Json>("rng");
    s.finish();
    check<ValueError>(epoch >= 0, "training_state: epoch must be non-negative, got ", epoch);
    check<ValueError>(rng.is_object(), "training_state: rng must be an object, got ", rng.dump());
    model.optimizer_->build(model.trainable_variables());
    model.optimizer_built_ = true;
    model.optimizer_->set_iterations(iterations);
    assign_optimizer_state(model, f);
    model.epoch_ = epoch;
    std::map<std::string, Layer<T>*> by_path;
    for (const auto& [path, layer] : model.layer_paths()) by_path[path] = layer;
    for (auto it = rng.begin(); it != rng.end(); ++it) {
      check<ValueError>(by_path.count(it.key()) && it.value().is_string(),
                        "training_state: rng names no layer state: '", it.key(), "'");
      by_path[it.key()]->set_rng_state(it.value().template get<std::string>());
    }
  });
}

template <class M>
void ModelFile::assign_optimizer_state(M& model, const SafetensorsFile& f) {
  using T = typename M::value_type;
  auto& optimizer = *model.optimizer_;
  const auto paths = paths_by_node(model.named_weights());
  const auto& parameters = optimizer.parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::string& path = paths.at(parameters[i].node().get());
    for (auto& [slot, tensor] : optimizer.state_tensors(i)) {
      const std::string name = kOptimizerPrefix + path + "/" + slot;
      check<IoError>(f.contains(name), f.label(), ": the optimizer state '", name,
                     "' is not in the file");
      check<IoError>(f.entry(name).shape == tensor.shape(), f.label(), ": optimizer state '", name,
                     "' has shape ", f.entry(name).shape, " in the file but ", tensor.shape(),
                     " in the model");
      tensor.assign(f.template tensor<T>(name));
    }
  }
}

}  // namespace detail

}  // namespace lamina
