#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/recurrent.hpp"
#include "lamina/ops/gru.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of GRU (Keras 3's keyword arguments and defaults).
struct GRUOptions {
  /// Of the candidate: "tanh", "linear", "relu", "sigmoid", "leaky_relu" or "elu".
  std::string activation = "tanh";
  /// Of the update and reset gates (same names).
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  /// Apply the reset gate after the recurrent product (Keras 3's default, cuDNN's and PyTorch's
  /// convention; bias [2, 3 units]) rather than before it (bias [3 units]).
  bool reset_after = true;
  /// Fraction of the input features dropped in training (one mask per sequence, as Keras).
  double dropout = 0.0;
  /// Fraction of the recurrent state's units dropped in training where h_{t-1} meets the
  /// recurrent kernel (one mask per sequence, as Keras; the mix z h_{t-1} keeps the whole state).
  double recurrent_dropout = 0.0;
  /// Return the whole sequence [batch, timesteps, units] rather than the last output.
  bool return_sequences = false;
  /// Make call_with_state() available: it returns the output and the final state [h].
  bool return_state = false;
  /// Walk the input backwards; with return_sequences the output is in walking order (reversed).
  bool go_backwards = false;
  /// Per-sample input shape [timesteps, features]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// Gated recurrent unit layer (Cho et al. 2014), Keras's GRU: gates z, r, h side by side in
/// kernel [features, 3 units] and recurrent_kernel [units, 3 units]; bias [2, 3 units] (input
/// and recurrent rows) with reset_after, else [3 units]; see lamina::gru for the recurrence.
/// input: [batch, timesteps, features]; output: [batch, units], or [batch, timesteps, units]
/// with return_sequences.
template <class T = float>
class GRU : public detail::GatedRNN<T, GRUOptions, GRU<T>> {
  using Base = detail::GatedRNN<T, GRUOptions, GRU<T>>;
  friend Base;

 public:
  static constexpr index_t kGates = 3;

  explicit GRU(index_t units, GRUOptions options = {}) : Base("GRU", units, std::move(options)) {
    this->op_options_.reset_after = this->options_.reset_after;
  }

  std::string type() const override { return "GRU"; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    detail::write_gated_rnn_options(c, this->units_, this->options_);
    c["reset_after"] = this->options_.reset_after;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<GRU> from_config(const Json& config) {
    ConfigReader r(config, "GRU");
    GRUOptions o;
    detail::read_gated_rnn_options(r, o);
    o.reset_after = r.get("reset_after", o.reset_after);
    const auto units = r.get<index_t>("units");
    return detail::finish_from_config(r, GRU(units, std::move(o)));
  }

 private:
  Tensor<T> initial_bias(Generator& gen) const {
    const index_t cols = 3 * this->units_;
    return this->draw_bias(this->options_.reset_after ? Shape{2, cols} : Shape{cols}, gen);
  }

  Variable<T> run(const Variable<T>& x, const GatedRNNOpOptions& o, const Tensor<T>* mask) {
    Variable<T> y = gru(x, this->kernel_, this->recurrent_kernel_, this->bias_or_null(), o, mask);
    if (this->options_.return_state) {
      // The final state is the last output.
      const index_t steps = x.dim(1);
      this->last_states_ = {o.return_sequences
                                ? reshape(slice(y, 1, steps - 1, steps), {x.dim(0), this->units_})
                                : y};
    }
    return y;
  }
};

}  // namespace lamina
