#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/layers/recurrent.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of Bidirectional (Keras's keyword arguments and defaults).
struct BidirectionalOptions {
  /// How the two directions' outputs combine: "concat" (along the last axis), "sum", "mul" or
  /// "ave".
  std::string merge_mode = "concat";
  /// Per-sample input shape [timesteps, features]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// Keras's Bidirectional wrapper: runs a recurrent layer (LSTM, GRU) over the sequence forwards
/// and a copy of it (its own weights, go_backwards flipped) backwards, and merges the two
/// outputs; with return_sequences the backward output is reversed back into input order first.
/// Weights: "forward_<layer>/<weight>" then "backward_<layer>/<weight>" (e.g.
/// "forward_lstm/kernel"). input: [batch, timesteps, features]; output: the wrapped layer's, with
/// the last axis doubled for "concat". The wrapped layer's return_state is not supported yet.
template <class T = float>
class Bidirectional : public Layer<T> {
 public:
  /// Wraps `layer` (taken by value, as Sequential::add): `Bidirectional(LSTM(64))`.
  template <class L>
  requires std::derived_from<L, Layer<T>>
  explicit Bidirectional(L layer, BidirectionalOptions options = {})
      : Bidirectional(std::shared_ptr<Layer<T>>(std::make_shared<L>(std::move(layer))),
                      std::move(options)) {}

  /// Wraps a layer held by pointer (it becomes the forward layer and is renamed).
  explicit Bidirectional(std::shared_ptr<Layer<T>> layer, BidirectionalOptions options = {})
      : Layer<T>(options.name, declared_input_shape(options, layer)), options_(std::move(options)) {
    check<ValueError>(layer != nullptr, "Bidirectional: got a null layer");
    forward_ = std::dynamic_pointer_cast<RecurrentLayer<T>>(layer);
    check<ValueError>(forward_ != nullptr,
                      "Bidirectional: the wrapped layer must be a recurrent layer (LSTM, GRU), "
                      "got ",
                      layer->label());
    check<ValueError>(!forward_->return_state(), "Bidirectional: ", layer->label(),
                      " has return_state, which Bidirectional does not support yet");
    check<ValueError>(!forward_->built(), "Bidirectional: ", layer->label(),
                      " is already built; wrap a new layer");
    const auto& modes = merge_modes();
    check<ValueError>(std::find(modes.begin(), modes.end(), options_.merge_mode) != modes.end(),
                      "Bidirectional: unknown merge_mode '", options_.merge_mode,
                      "'; valid names: concat, sum, mul, ave");
    inner_name_ = layer->name().empty() ? snake_case(layer->type()) : layer->name();
    forward_->set_name("forward_" + inner_name_);
    backward_ = forward_->reversed_copy("backward_" + inner_name_);
  }

  std::string type() const override { return "Bidirectional"; }
  const std::string& merge_mode() const { return options_.merge_mode; }
  /// The two directions (valid at once; built with this layer).
  const RecurrentLayer<T>& forward_layer() const { return *forward_; }
  const RecurrentLayer<T>& backward_layer() const { return *backward_; }

  Json get_config() const override {
    Json c = Layer<T>::get_config();
    Json inner = forward_->get_config();
    inner["name"] = inner_name_;
    inner.erase("seed");
    c["layer"] = {{"class_name", forward_->type()}, {"config", std::move(inner)}};
    c["merge_mode"] = options_.merge_mode;
    return c;
  }
  /// The layer get_config() describes; `layer_from_spec` rebuilds the wrapped layer from its
  /// {"class_name", "config"} (layers/registry.hpp passes its own).
  static std::shared_ptr<Bidirectional> from_config(
      const Json& config,
      const std::function<std::shared_ptr<Layer<T>>(const Json&)>& layer_from_spec) {
    ConfigReader r(config, "Bidirectional");
    BidirectionalOptions o;
    detail::read_common_options(r, o);
    o.merge_mode = r.get("merge_mode", o.merge_mode);
    std::shared_ptr<Layer<T>> inner = layer_from_spec(r.get<Json>("layer"));
    return detail::finish_from_config(r, Bidirectional(std::move(inner), std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check<ShapeError>(input_shape.rank() == 2 && input_shape[0] > 0, this->label(),
                      ": expected input [batch, timesteps, features] with timesteps > 0, got "
                      "per-sample shape ",
                      input_shape);
    forward_->set_seed(gen.next());
    backward_->set_seed(gen.next());
    forward_->build(input_shape);
    backward_->build(input_shape);
    for (const auto& inner : {forward_, backward_})
      for (const Weight<T>& w : inner->weights())
        this->add_shared_weight(inner->name() + "/" + w.name, w.variable, w.trainable);
    Shape out = forward_->output_shape();
    if (options_.merge_mode == "concat") out[out.rank() - 1] *= 2;
    return out;
  }

  Variable<T> forward(const Variable<T>& x) override {
    forward_->set_training(this->training());
    backward_->set_training(this->training());
    const Variable<T> a = (*forward_)(x);
    Variable<T> b = (*backward_)(x);
    // The backward layer's sequence is in its walking order: reversed back, as Keras does.
    if (forward_->return_sequences()) b = flip(b, 1);
    const std::string& mode = options_.merge_mode;
    if (mode == "concat") return concat<T>({a, b}, -1);
    if (mode == "sum") return add(a, b);
    if (mode == "mul") return mul(a, b);
    return mul(add(a, b), T(0.5));  // "ave"
  }

 private:
  /// Keras's input_shape: the wrapper's own, else the wrapped layer's.
  static Shape declared_input_shape(const BidirectionalOptions& o,
                                    const std::shared_ptr<Layer<T>>& layer) {
    if (o.input_shape.rank() > 0 || !layer || !layer->declared_input_shape()) return o.input_shape;
    return *layer->declared_input_shape();
  }
  static const std::array<std::string, 4>& merge_modes() {
    static const std::array<std::string, 4> modes{"concat", "sum", "mul", "ave"};
    return modes;
  }

  BidirectionalOptions options_;
  std::string inner_name_;
  std::shared_ptr<RecurrentLayer<T>> forward_, backward_;
};

/// Bidirectional(LSTM<double>(8)) is a Bidirectional<double>.
template <template <class> class L, class T>
Bidirectional(L<T>, BidirectionalOptions = {}) -> Bidirectional<T>;

}  // namespace lamina
