#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lamina/core/config.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/io/safetensors.hpp"
#include "lamina/models/autoencoder.hpp"
#include "lamina/models/gan.hpp"
#include "lamina/models/model.hpp"
#include "lamina/models/model_file.hpp"
#include "lamina/models/sequential.hpp"

namespace lamina {

/// Makes a model from its get_config().
template <class T>
using ModelFactory = std::function<std::shared_ptr<Model<T>>(const Json& config)>;

template <class T>
std::shared_ptr<Model<T>> model_from_spec(const Json& spec);

/// The model classes a model file can name: the built-in ones (this is their one list) and
/// those added with register_model.
template <class T>
Registry<ModelFactory<T>>& model_registry() {
  static Registry<ModelFactory<T>> registry(
      "model class",
      {
          {"Autoencoder",
           [](const Json& config) -> std::shared_ptr<Model<T>> {
             ConfigReader r(config, "Autoencoder");
             const auto name = r.get<std::string>("name");
             auto encoder = model_from_spec<T>(r.get<Json>("encoder"));
             auto decoder = model_from_spec<T>(r.get<Json>("decoder"));
             r.finish();
             return std::make_shared<Autoencoder<T>>(std::move(encoder), std::move(decoder), name);
           }},
          {"GAN",
           [](const Json& config) -> std::shared_ptr<Model<T>> {
             ConfigReader r(config, "GAN");
             GANOptions o{.name = r.get<std::string>("name"),
                          .label_smoothing = r.get<double>("label_smoothing", 0.0)};
             const auto latent_dim = r.get<index_t>("latent_dim");
             auto generator = model_from_spec<T>(r.get<Json>("generator"));
             auto discriminator = model_from_spec<T>(r.get<Json>("discriminator"));
             r.finish();
             return std::make_shared<GAN<T>>(std::move(generator), std::move(discriminator),
                                             latent_dim, std::move(o));
           }},
          {"Functional", &detail::functional_from_config<T>},
          {"Sequential", &Sequential<T>::from_config},
      });
  return registry;
}

/// Lets load_model rebuild a custom model class: `factory(config)` receives what the model's
/// get_config() returned; `class_name` is what its class_name() returns.
template <class T>
void register_model(const std::string& class_name, ModelFactory<T> factory) {
  model_registry<T>().add(class_name, std::move(factory));
}

/// The model a Model::spec() describes, built for its recorded input shape, weights not loaded.
template <class T>
std::shared_ptr<Model<T>> model_from_spec(const Json& spec) {
  ConfigReader r(spec, "model");
  const auto class_name = r.get<std::string>("class_name");
  const auto config = r.get<Json>("config");
  const auto build_config = r.get<Json>("build_config", nullptr);
  r.finish();
  std::shared_ptr<Model<T>> model = model_registry<T>().get(class_name)(config);
  check<ValueError>(model != nullptr && model->class_name() == class_name,
                    "the factory of model class '", class_name, "' returned ",
                    model ? "a model of class '" + model->class_name() + "'" : "no model");
  if (!build_config.is_null()) {
    ConfigReader b(build_config, class_name + " build_config");
    const Shape input_shape = b.get<Shape>("input_shape");
    b.finish();
    model->build(input_shape);
  }
  return model;
}

/// Rebuilds the model a Model::save() wrote (Keras's load_model): its architecture from the
/// file's config (custom classes through register_model / register_layer), its weights, and,
/// when saved, its compile settings, optimizer state, epoch and random state, so that it
/// predicts bit for bit as the saved model did and resumes training exactly. Every problem with
/// the file is an IoError naming it and what is wrong; so is a config whose layers would
/// allocate more than 1 GiB plus four times the file's size (detail::AllocationLimit), which no
/// file holding those weights could ask for.
template <class T>
std::shared_ptr<Model<T>> load_model(const SafetensorsFile& f) {
  detail::check_format(f);
  const Json spec = detail::metadata_json(f, "model_config");
  check<IoError>(!spec.is_null(), f.label(),
                 ": the file holds no model_config (written by save_weights? then build the "
                 "model in code and call load_weights)");
  std::size_t file_bytes = 0;
  for (const auto& e : f.entries()) file_bytes += e.end - e.begin;
  const detail::AllocationLimit limit((std::size_t{1} << 30) + 4 * file_bytes);
  std::shared_ptr<Model<T>> model =
      detail::in_file(f.label(), [&] { return model_from_spec<T>(spec); });
  model->restore(f);
  return model;
}
template <class T>
std::shared_ptr<Model<T>> load_model(const std::string& path) {
  return load_model<T>(SafetensorsFile::read(path));
}

/// load_model for a model of a known class M (e.g. Sequential<float>): IoError when the file
/// holds another class.
template <class M>
std::shared_ptr<M> load_model_as(const std::string& path) {
  auto model = load_model<typename M::value_type>(path);
  auto typed = std::dynamic_pointer_cast<M>(model);
  check<IoError>(typed != nullptr, path, ": the file holds a model of class '", model->class_name(),
                 "', not the one asked for");
  return typed;
}

}  // namespace lamina
