#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/recurrent.hpp"
#include "lamina/ops/lstm.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of LSTM (Keras's keyword arguments and defaults).
struct LSTMOptions {
  /// Of the candidate and of the cell state on output: "tanh", "linear", "relu", "sigmoid",
  /// "leaky_relu" or "elu".
  std::string activation = "tanh";
  /// Of the input, forget and output gates (same names).
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  /// Start the forget gate's bias at 1 (Jozefowicz et al. 2015), the rest from bias_initializer.
  bool unit_forget_bias = true;
  /// Fraction of the input features dropped in training (one mask per sequence, as Keras).
  double dropout = 0.0;
  /// Fraction of the recurrent state's units dropped in training where h_{t-1} meets the
  /// recurrent kernel (one mask per sequence, as Keras; the cell state is not dropped).
  double recurrent_dropout = 0.0;
  /// Return the whole sequence [batch, timesteps, units] rather than the last output.
  bool return_sequences = false;
  /// Make call_with_state() available: it returns the output and the final states [h, c].
  bool return_state = false;
  /// Walk the input backwards; with return_sequences the output is in walking order (reversed).
  bool go_backwards = false;
  /// Per-sample input shape [timesteps, features]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// Long short-term memory layer (Hochreiter & Schmidhuber 1997), Keras's LSTM: gates i, f, c, o
/// side by side in kernel [features, 4 units], recurrent_kernel [units, 4 units] and bias
/// [4 units]; see lamina::lstm for the recurrence. input: [batch, timesteps, features]; output:
/// [batch, units], or [batch, timesteps, units] with return_sequences.
template <class T = float>
class LSTM : public detail::GatedRNN<T, LSTMOptions, LSTM<T>> {
  using Base = detail::GatedRNN<T, LSTMOptions, LSTM<T>>;
  friend Base;

 public:
  static constexpr index_t kGates = 4;

  explicit LSTM(index_t units, LSTMOptions options = {})
      : Base("LSTM", units, std::move(options)) {}

  std::string type() const override { return "LSTM"; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    detail::write_gated_rnn_options(c, this->units_, this->options_);
    c["unit_forget_bias"] = this->options_.unit_forget_bias;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<LSTM> from_config(const Json& config) {
    ConfigReader r(config, "LSTM");
    LSTMOptions o;
    detail::read_gated_rnn_options(r, o);
    o.unit_forget_bias = r.get("unit_forget_bias", o.unit_forget_bias);
    const auto units = r.get<index_t>("units");
    return detail::finish_from_config(r, LSTM(units, std::move(o)));
  }

 private:
  Tensor<T> initial_bias(Generator& gen) const {
    const index_t u = this->units_;
    if (!this->options_.unit_forget_bias) return this->draw_bias({4 * u}, gen);
    // Keras: [bias_initializer(u), ones(u), bias_initializer(2 u)].
    Tensor<T> b = Tensor<T>::empty({4 * u});
    const Tensor<T> input_gate = this->draw_bias({u}, gen), rest = this->draw_bias({2 * u}, gen);
    std::copy_n(input_gate.data(), u, b.data());
    std::fill_n(b.data() + u, u, T(1));
    std::copy_n(rest.data(), 2 * u, b.data() + 2 * u);
    return b;
  }

  Variable<T> run(const Variable<T>& x, const GatedRNNOpOptions& o, const Tensor<T>* mask) {
    if (!this->options_.return_state)
      return lstm(x, this->kernel_, this->recurrent_kernel_, this->bias_or_null(), o, mask);
    LSTMResult<T> r =
        lstm_with_state(x, this->kernel_, this->recurrent_kernel_, this->bias_or_null(), o, mask);
    this->last_states_ = {r.h, r.c};
    return r.output;
  }
};

}  // namespace lamina
