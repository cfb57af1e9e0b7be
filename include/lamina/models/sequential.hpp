#pragma once

#include <concepts>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/input_layer.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/models/model.hpp"

namespace lamina {

/// Options of Sequential.
struct SequentialOptions {
  std::string name = "sequential";
  /// Seed from which each layer's weights are drawn (layer i uses a seed derived from it).
  std::uint64_t seed = 0;
};

namespace detail {

/// One layer of Sequential's list constructor: any layer, by value or shared, or an Input.
template <class T>
struct SequentialEntry {
  SequentialEntry(const KerasTensor<T>& input)  // NOLINT: implicit
      : layer(input.layer().shared_from_this()) {}
  template <class L>
  requires std::derived_from<L, Layer<T>> SequentialEntry(L l)  // NOLINT: implicit
      : layer(std::make_shared<L>(std::move(l))) {}
  template <class L>
  requires std::derived_from<L, Layer<T>> SequentialEntry(std::shared_ptr<L> l)  // NOLINT
      : layer(std::move(l)) {}
  std::shared_ptr<Layer<T>> layer;
};

}  // namespace detail

/// A plain stack of layers, each feeding the next (Keras's Sequential).
/// input: [batch, ...first layer's input]; output: [batch, ...last layer's output].
template <class T = float>
class Sequential : public Model<T> {
 public:
  explicit Sequential(SequentialOptions options = {}) : Model<T>(options.name) {
    this->set_seed(options.seed);
  }
  /// The layers given at once, as Keras's `Sequential([...])`:
  /// `Sequential<float>({Dense(64, {.activation = "relu"}), Dense(10)})`.
  explicit Sequential(std::initializer_list<detail::SequentialEntry<T>> layers,
                      SequentialOptions options = {})
      : Sequential(std::move(options)) {
    for (const auto& entry : layers) add(entry.layer);
  }

  /// Appends a layer (taken by value: `model.add(Dense(64, {.activation = "relu"}))`).
  /// When it is the first layer and declares an input_shape, the model is built at once.
  template <class L>
  requires std::derived_from<L, Layer<T>> Sequential& add(L layer) {
    return add(std::make_shared<L>(std::move(layer)));
  }
  /// Starts the model with an Input, as Keras's `model.add(keras.Input(shape=(16,)))`: it sets
  /// the input shape (the model is built as soon as it has a layer) and is not a layer of it.
  Sequential& add(const KerasTensor<T>& input) { return add(input.layer().shared_from_this()); }
  /// Appends a shared layer.
  Sequential& add(std::shared_ptr<Layer<T>> layer) {
    check<ValueError>(layer != nullptr, this->name(), ": add() got a null layer");
    if (dynamic_cast<const InputLayer<T>*>(layer.get())) {
      check<ValueError>(stack_.empty() && !input_, this->name(),
                        ": an Input can only start the model, before its first layer");
      input_ = layer;
      return *this;
    }
    const bool declares = input_ || layer->declared_input_shape();
    check<ValueError>(stack_.empty() || !layer->declared_input_shape(), this->name(),
                      ": only the first layer may declare an input_shape (", layer->label(), ")");
    check<ValueError>(!(input_ && layer->declared_input_shape()), this->name(),
                      ": the model starts with an Input; ", layer->label(),
                      " cannot declare an input_shape too");
    this->add_layer(layer);
    stack_.push_back(std::move(layer));
    if (stack_.size() == 1 && declares)
      this->build(input_ ? *input_->declared_input_shape()
                         : *stack_.front()->declared_input_shape());
    else if (stack_.size() > 1 && stack_[stack_.size() - 2]->built())
      stack_.back()->build(stack_[stack_.size() - 2]->output_shape());
    return *this;
  }

  Variable<T> call(const Variable<T>& x) override {
    check(!stack_.empty(), this->name(), ": the model has no layers; add() some first");
    Variable<T> h = x;
    for (auto& layer : stack_) h = (*layer)(h);
    return h;
  }
  std::pair<Variable<T>, std::string> call_pre_activation(const Variable<T>& x) override {
    check(!stack_.empty(), this->name(), ": the model has no layers; add() some first");
    Variable<T> h = x;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) h = (*stack_[i])(h);
    Layer<T>& last = *stack_.back();
    return {last.call_pre_activation(h), last.output_activation()};
  }

  std::string class_name() const override { return "Sequential"; }
  /// {"name": ..., "layers": [{"class_name": "Dense", "config": {...}}, ...]}.
  Json get_config() const override {
    Json layers = Json::array();
    if (input_) layers.push_back(layer_spec(*input_));
    for (const auto& layer : stack_) layers.push_back(layer_spec(*layer));
    return {{"name", this->name()}, {"layers", layers}};
  }
  /// The model get_config() describes (its layers rebuilt through layer_registry()).
  static std::shared_ptr<Sequential> from_config(const Json& config) {
    ConfigReader r(config, "Sequential");
    auto model =
        std::make_shared<Sequential>(SequentialOptions{.name = r.get<std::string>("name")});
    const Json layers = r.get<Json>("layers");
    check<ValueError>(layers.is_array(), "Sequential config: option 'layers' must be a list, got ",
                      layers.dump());
    r.finish();
    for (const Json& spec : layers) model->add(layer_from_spec<T>(spec));
    return model;
  }

  /// The i-th layer.
  Layer<T>& layer(std::size_t i) {
    check<ValueError>(i < stack_.size(), this->name(), ": layer index ", i, " out of range (",
                      stack_.size(), " layers)");
    return *stack_[i];
  }
  std::size_t size() const { return stack_.size(); }

 private:
  std::vector<std::shared_ptr<Layer<T>>> stack_;
  std::shared_ptr<Layer<T>> input_;  // the InputLayer of an Input it starts with
};

}  // namespace lamina
