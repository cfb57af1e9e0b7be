#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/recurrent.hpp"

namespace lamina {

/// What a recurrent layer's call returns with return_state (Keras's list [output, *states]).
template <class T>
struct RecurrentOutputs {
  /// [batch, units], or [batch, timesteps, units] with return_sequences.
  Variable<T> output;
  /// The final states, each [batch, units]: LSTM [h, c], GRU [h].
  std::vector<Variable<T>> states;
};

/// Base of the recurrent layers that Bidirectional can wrap (LSTM, GRU).
///
/// Contract for subclasses (beside Layer's): report their options; `reversed_copy` returns a
/// new, unbuilt layer with the same options except go_backwards flipped; with return_state,
/// forward() leaves the final states of the call in `last_states_`.
template <class T>
class RecurrentLayer : public Layer<T> {
 public:
  virtual index_t units() const = 0;
  virtual bool return_sequences() const = 0;
  virtual bool return_state() const = 0;
  virtual bool go_backwards() const = 0;
  /// A new, unbuilt layer with the same options but go_backwards flipped, called `name`.
  virtual std::shared_ptr<RecurrentLayer<T>> reversed_copy(const std::string& name) const = 0;

  /// Keras's call with return_state=True: the output and the final states. Needs the layer's
  /// return_state option (a layer without it returns its output alone, through operator()).
  RecurrentOutputs<T> call_with_state(const Variable<T>& x) {
    check<ValueError>(return_state(), this->label(),
                      ": call_with_state needs the option return_state = true");
    Variable<T> output = (*this)(x);
    return {std::move(output), last_states_};
  }

 protected:
  using Layer<T>::Layer;
  std::vector<Variable<T>> last_states_;
};

namespace detail {

/// Validates the options LSTMOptions and GRUOptions share, for the layer `type`.
template <class T, class Options>
void check_gated_rnn_options(const char* type, index_t units, const Options& o) {
  check<ValueError>(units > 0, type, ": units must be positive, got ", units);
  for (const auto& [option, name] :
       {std::pair<const char*, const std::string&>{"activation", o.activation},
        {"recurrent_activation", o.recurrent_activation}}) {
    in_option(type, option, [&] {
      activation_by_name<T>(name);   // an unknown name, with the list of all names
      return pointwise(type, name);  // one that cannot run inside the op (softmax, softplus)
    });
  }
  Generator probe(0);
  in_option(type, "kernel_initializer", [&] {
    return initialize<T>(o.kernel_initializer, Shape{1, 1}, probe);
  });
  in_option(type, "recurrent_initializer", [&] {
    return initialize<T>(o.recurrent_initializer, Shape{1, 1}, probe);
  });
  in_option(type, "bias_initializer",
            [&] { return initialize<T>(o.bias_initializer, Shape{1}, probe); });
  check<ValueError>(o.dropout >= 0.0 && o.dropout < 1.0, type, ": dropout must be in [0, 1), got ",
                    o.dropout);
  check<ValueError>(o.recurrent_dropout >= 0.0 && o.recurrent_dropout < 1.0, type,
                    ": recurrent_dropout must be in [0, 1), got ", o.recurrent_dropout);
}

/// Writes the shared options into a layer's config.
template <class Options>
void write_gated_rnn_options(Json& c, index_t units, const Options& o) {
  c["units"] = units;
  c["activation"] = o.activation;
  c["recurrent_activation"] = o.recurrent_activation;
  c["use_bias"] = o.use_bias;
  c["kernel_initializer"] = o.kernel_initializer;
  c["recurrent_initializer"] = o.recurrent_initializer;
  c["bias_initializer"] = o.bias_initializer;
  c["dropout"] = o.dropout;
  c["recurrent_dropout"] = o.recurrent_dropout;
  c["return_sequences"] = o.return_sequences;
  c["return_state"] = o.return_state;
  c["go_backwards"] = o.go_backwards;
}

/// Reads what write_gated_rnn_options wrote (and name, input_shape).
template <class Options>
void read_gated_rnn_options(ConfigReader& r, Options& o) {
  read_common_options(r, o);
  o.activation = r.get("activation", o.activation);
  o.recurrent_activation = r.get("recurrent_activation", o.recurrent_activation);
  o.use_bias = r.get("use_bias", o.use_bias);
  o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
  o.recurrent_initializer = r.get("recurrent_initializer", o.recurrent_initializer);
  o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
  o.dropout = r.get("dropout", o.dropout);
  o.recurrent_dropout = r.get("recurrent_dropout", o.recurrent_dropout);
  o.return_sequences = r.get("return_sequences", o.return_sequences);
  o.return_state = r.get("return_state", o.return_state);
  o.go_backwards = r.get("go_backwards", o.go_backwards);
}

/// What LSTM and GRU share: options, weights kernel [features, gates units], recurrent_kernel
/// [units, gates units] and bias (shape and initial value from Derived), input dropout, the
/// output shape, the recurrent dropout mask. Derived provides kGates, initial_bias(gen) and
/// run(x, op_options, recurrent_mask), which calls its op and, with return_state, sets
/// last_states_.
template <class T, class Options, class Derived>
class GatedRNN : public RecurrentLayer<T> {
 public:
  index_t units() const override { return units_; }
  bool return_sequences() const override { return options_.return_sequences; }
  bool return_state() const override { return options_.return_state; }
  bool go_backwards() const override { return options_.go_backwards; }
  const Options& options() const { return options_; }
  /// The weights (valid once built; bias empty without use_bias).
  const Variable<T>& kernel() const { return kernel_; }
  const Variable<T>& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable<T>& bias() const { return bias_; }

  std::shared_ptr<RecurrentLayer<T>> reversed_copy(const std::string& name) const override {
    Options o = options_;
    o.go_backwards = !o.go_backwards;
    o.name = name;
    o.input_shape = Shape{};
    return std::make_shared<Derived>(units_, std::move(o));
  }

 protected:
  GatedRNN(const char* type, index_t units, Options options)
      : RecurrentLayer<T>(options.name, options.input_shape),
        units_(units),
        options_(std::move(options)) {
    check_gated_rnn_options<T>(type, units_, options_);
    op_options_.activation = pointwise(type, options_.activation);
    op_options_.recurrent_activation = pointwise(type, options_.recurrent_activation);
    op_options_.return_sequences = options_.return_sequences;
    op_options_.go_backwards = options_.go_backwards;
  }

  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check<ShapeError>(input_shape.rank() == 2 && input_shape[0] > 0, this->label(),
                      ": expected input [batch, timesteps, features] with timesteps > 0, got "
                      "per-sample shape ",
                      input_shape);
    const index_t features = input_shape[1], cols = Derived::kGates * units_;
    kernel_ = this->add_weight("kernel",
                               initialize<T>(options_.kernel_initializer, {features, cols}, gen));
    recurrent_kernel_ = this->add_weight(
        "recurrent_kernel", initialize<T>(options_.recurrent_initializer, {units_, cols}, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", static_cast<Derived&>(*this).initial_bias(gen));
    if (options_.return_sequences) return {input_shape[0], units_};
    return {units_};
  }

  Variable<T> forward(const Variable<T>& x) override {
    Variable<T> in = x;
    if (this->training() && options_.dropout > 0.0) {
      // Keras's input dropout: one mask per sequence, the same at every step.
      Generator& gen = this->call_generator();
      Tensor<T> mask = Tensor<T>::empty({x.dim(0), 1, x.dim(2)});
      const T keep_scale = T(1.0 / (1.0 - options_.dropout));
      for (T& m : mask) m = gen.uniform() < options_.dropout ? T(0) : keep_scale;
      in = mul(x, Variable<T>(std::move(mask)));
    }
    if (this->training() && options_.recurrent_dropout > 0.0) {
      // Keras's recurrent dropout: one mask [batch, units] per sequence on h_{t-1} where it
      // meets the recurrent kernel (the op applies it).
      Generator& gen = this->call_generator();
      Tensor<T> mask = Tensor<T>::empty({x.dim(0), units_});
      const T keep_scale = T(1.0 / (1.0 - options_.recurrent_dropout));
      for (T& m : mask) m = gen.uniform() < options_.recurrent_dropout ? T(0) : keep_scale;
      return static_cast<Derived&>(*this).run(in, op_options_, &mask);
    }
    return static_cast<Derived&>(*this).run(in, op_options_, nullptr);
  }

  /// The bias initializer's draw for a shape (Derived's initial_bias uses it).
  Tensor<T> draw_bias(const Shape& shape, Generator& gen) const {
    return initialize<T>(options_.bias_initializer, shape, gen);
  }
  const Variable<T>* bias_or_null() const { return options_.use_bias ? &bias_ : nullptr; }

  index_t units_;
  Options options_;
  GatedRNNOpOptions op_options_;
  Variable<T> kernel_, recurrent_kernel_, bias_;
};

}  // namespace detail

}  // namespace lamina
