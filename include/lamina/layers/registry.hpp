#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lamina/core/config.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/layers/activation.hpp"
#include "lamina/layers/advanced_activations.hpp"
#include "lamina/layers/bidirectional.hpp"
#include "lamina/layers/conv1d.hpp"
#include "lamina/layers/conv2d.hpp"
#include "lamina/layers/conv2d_transpose.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/dropout.hpp"
#include "lamina/layers/embedding.hpp"
#include "lamina/layers/global_pooling.hpp"
#include "lamina/layers/gru.hpp"
#include "lamina/layers/input_layer.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/layers/lstm.hpp"
#include "lamina/layers/merge.hpp"
#include "lamina/layers/normalization.hpp"
#include "lamina/layers/pooling.hpp"
#include "lamina/layers/preprocessing.hpp"
#include "lamina/layers/rescaling.hpp"
#include "lamina/layers/reshape.hpp"
#include "lamina/layers/simple_rnn.hpp"
#include "lamina/layers/upsampling2d.hpp"
#include "lamina/layers/zero_padding2d.hpp"

namespace lamina {

/// Makes a layer from its get_config().
template <class T>
using LayerFactory = std::function<std::shared_ptr<Layer<T>>(const Json& config)>;

/// Declared here for Bidirectional's factory, which rebuilds the layer it wraps; defined below.
template <class T>
std::shared_ptr<Layer<T>> layer_from_spec(const Json& spec);

/// The layer classes a model file can name: the built-in ones (this is their one list) and
/// those added with register_layer.
template <class T>
Registry<LayerFactory<T>>& layer_registry() {
  static Registry<LayerFactory<T>> registry(
      "layer class",
      {
          {"Activation", &Activation<T>::from_config},
          {"Add", &Add<T>::from_config},
          {"Average", &Average<T>::from_config},
          {"AveragePooling1D", &AveragePooling1D<T>::from_config},
          {"AveragePooling2D", &AveragePooling2D<T>::from_config},
          {"BatchNormalization", &BatchNormalization<T>::from_config},
          {"Bidirectional",
           [](const Json& c) { return Bidirectional<T>::from_config(c, &layer_from_spec<T>); }},
          {"Concatenate", &Concatenate<T>::from_config},
          {"Conv1D", &Conv1D<T>::from_config},
          {"Conv2D", &Conv2D<T>::from_config},
          {"Conv2DTranspose", &Conv2DTranspose<T>::from_config},
          {"Dense", &Dense<T>::from_config},
          {"Dropout", &Dropout<T>::from_config},
          {"ELU", &ELU<T>::from_config},
          {"Embedding", &Embedding<T>::from_config},
          {"Flatten", &Flatten<T>::from_config},
          {"GlobalAveragePooling1D", &GlobalAveragePooling1D<T>::from_config},
          {"GlobalAveragePooling2D", &GlobalAveragePooling2D<T>::from_config},
          {"GlobalMaxPooling1D", &GlobalMaxPooling1D<T>::from_config},
          {"GlobalMaxPooling2D", &GlobalMaxPooling2D<T>::from_config},
          {"GRU", &GRU<T>::from_config},
          {"InputLayer", &InputLayer<T>::from_config},
          {"LSTM", &LSTM<T>::from_config},
          {"LayerNormalization", &LayerNormalization<T>::from_config},
          {"LeakyReLU", &LeakyReLU<T>::from_config},
          {"MaxPooling1D", &MaxPooling1D<T>::from_config},
          {"MaxPooling2D", &MaxPooling2D<T>::from_config},
          {"Maximum", &Maximum<T>::from_config},
          {"Minimum", &Minimum<T>::from_config},
          {"Multiply", &Multiply<T>::from_config},
          {"RandomFlip", &RandomFlip<T>::from_config},
          {"RandomRotation", &RandomRotation<T>::from_config},
          {"RandomTranslation", &RandomTranslation<T>::from_config},
          {"RandomZoom", &RandomZoom<T>::from_config},
          {"ReLU", &ReLU<T>::from_config},
          {"Rescaling", &Rescaling<T>::from_config},
          {"Reshape", &Reshape<T>::from_config},
          {"SimpleRNN", &SimpleRNN<T>::from_config},
          {"Softmax", &Softmax<T>::from_config},
          {"Subtract", &Subtract<T>::from_config},
          {"UpSampling2D", &UpSampling2D<T>::from_config},
          {"ZeroPadding2D", &ZeroPadding2D<T>::from_config},
      });
  return registry;
}

/// Lets load_model rebuild a custom layer class: `factory(config)` receives what the layer's
/// get_config() returned and returns the layer; `class_name` is what its type() returns.
/// A custom layer class L with a static from_config registers as
/// `register_layer<float>("MyLayer", &MyLayer<float>::from_config)`.
template <class T>
void register_layer(const std::string& class_name, LayerFactory<T> factory) {
  layer_registry<T>().add(class_name, std::move(factory));
}

/// {"class_name": "Dense", "config": {...}}: how a model's config describes one of its layers.
template <class T>
Json layer_spec(const Layer<T>& layer) {
  return {{"class_name", layer.type()}, {"config", layer.get_config()}};
}

/// The layer a layer_spec() describes. ValueError when the class is unknown or the config
/// does not fit it (naming the class and the option).
template <class T>
std::shared_ptr<Layer<T>> layer_from_spec(const Json& spec) {
  ConfigReader r(spec, "layer");
  const auto class_name = r.get<std::string>("class_name");
  const auto config = r.get<Json>("config");
  r.finish();
  std::shared_ptr<Layer<T>> layer = layer_registry<T>().get(class_name)(config);
  check<ValueError>(layer != nullptr && layer->type() == class_name, "the factory of layer class '",
                    class_name, "' returned ", layer ? "a " + layer->type() : "no layer");
  return layer;
}

}  // namespace lamina
