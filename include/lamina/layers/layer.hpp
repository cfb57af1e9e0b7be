#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/autograd/variable.hpp"
#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

namespace detail {

/// Runs f() and returns what it returns; a ValueError from it (an unknown activation, padding or
/// initializer name) is thrown again with the layer type and the option in front, e.g.
/// "Dense option activation: unknown activation 'relux'; valid names: ...".
template <class F>
decltype(auto) in_option(std::string_view layer, std::string_view option, F&& f) {
  try {
    return f();
  } catch (const ValueError& e) {
    throw ValueError(std::string(layer) + " option " + std::string(option) + ": " + e.what());
  }
}

/// Reads the options every layer's config has (name, input_shape) into a layer's options struct.
template <class Options>
void read_common_options(ConfigReader& r, Options& options) {
  options.name = r.get<std::string>("name", "");
  options.input_shape = r.get<Shape>("input_shape", Shape{});
}

/// The end of every from_config: applies `trainable` and `seed` from the config to the new
/// layer, rejects options nobody read, and returns the layer.
template <class L>
std::shared_ptr<L> finish_from_config(ConfigReader& r, L layer) {
  const bool trainable = r.get<bool>("trainable", true);
  const auto seed = r.get<std::optional<std::uint64_t>>("seed", std::nullopt);
  r.finish();
  auto out = std::make_shared<L>(std::move(layer));
  out->set_trainable(trainable);
  if (seed) out->set_seed(*seed);
  return out;
}

}  // namespace detail

namespace detail {
/// Where the seeds of layers built without one start (see set_random_seed), and how many of
/// them each scalar type has handed out since.
inline std::atomic<std::uint64_t>& default_seed_base() {
  static std::atomic<std::uint64_t> base{0x5EED0000ULL};
  return base;
}
template <class T>
std::atomic<std::uint64_t>& default_seed_counter() {
  static std::atomic<std::uint64_t> counter{0};
  return counter;
}
}  // namespace detail

/// Keras's keras.utils.set_random_seed: the layers built from now on without a seed of their
/// own (the functional API builds them when they are called) draw their weights from seeds
/// derived from `seed`, in the order they are built, so a program that calls it first builds
/// the same weights every run. (Sequential gives its layers seeds of its own.)
inline void set_random_seed(std::uint64_t seed) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL;  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  detail::default_seed_base() = z ^ (z >> 31);
  detail::default_seed_counter<float>() = 0;
  detail::default_seed_counter<double>() = 0;
}

/// "[*, 28, 28, 1]": a per-sample shape with the batch axis shown as `*`.
inline std::string batch_shape_str(const Shape& per_sample) {
  std::string s = "[*";
  for (index_t d : per_sample) s += ", " + std::to_string(d);
  return s + "]";
}

/// "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d", "SimpleRNN" -> "simple_rnn",
/// "Conv2DTranspose" -> "conv2d_transpose": Keras's default layer-name prefix for a class name
/// (an underscore before a capital that follows a lower-case letter or starts a capitalised
/// word after another character).
inline std::string snake_case(const std::string& type) {
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    const bool upper = c >= 'A' && c <= 'Z';
    const bool starts_word = i + 1 < type.size() && lower(type[i + 1]);
    if (upper && i > 0 && (lower(type[i - 1]) || (starts_word && type[i - 1] != '_'))) out += '_';
    out += upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

namespace detail {

/// Checks that a layer of images gets them: a per-sample input [height, width, channels].
/// `label` names the layer (Layer::label()).
inline void check_image_input(const std::string& label, const Shape& input_shape) {
  check<ShapeError>(input_shape.rank() == 3, label,
                    ": expected input [batch, height, width, channels], got per-sample shape ",
                    input_shape);
}

/// Checks that a layer of sequences gets them: a per-sample input [steps, channels].
inline void check_sequence_input(const std::string& label, const Shape& input_shape) {
  check<ShapeError>(input_shape.rank() == 2, label,
                    ": expected input [batch, steps, channels], got per-sample shape ",
                    input_shape);
}

/// The per-sample output shape of `f` (a layer's ops) on one zero sample of `input_shape`,
/// found without recording gradients. An Error from f becomes a ShapeError naming the layer
/// (`label`), the input and `what` ("the kernel", "the pool"), so that a layer's build can
/// reject an input that does not fit before it adds any weight.
template <class T, class F>
Shape probe_output_shape(const std::string& label, const Shape& input_shape, const char* what,
                         F&& f) {
  NoGradGuard no_grad;
  std::vector<index_t> dims{1};
  dims.insert(dims.end(), input_shape.begin(), input_shape.end());
  Shape out;
  try {
    out = f(Variable<T>(Tensor<T>(Shape(std::move(dims))))).shape();
  } catch (const Error& e) {
    throw ShapeError(label + ": input " + batch_shape_str(input_shape) + " does not fit " + what +
                     ": " + e.what());
  }
  return Shape(std::vector<index_t>(out.begin() + 1, out.end()));
}

/// A 1-D window size (kernel_size, strides, pool_size) in a config: an integer n or Keras's
/// list [n]; `who` and `key` name it in errors.
inline index_t size1_from_json(const std::string& who, const char* key, const Json& v) {
  const Json& n = v.is_array() && v.size() == 1 ? v[0] : v;
  check<ValueError>(n.is_number_integer(), who, " config: option '", key,
                    "' must be an integer or a list of one integer, got ", v.dump());
  return static_cast<index_t>(n.get<std::int64_t>());
}

}  // namespace detail

template <class T>
class KerasTensor;  // models/functional.hpp
namespace detail {
template <class T>
struct SymbolicCall;  // models/functional.hpp
}  // namespace detail

/// A weight of a layer: its name within the layer ("kernel", "bias") and whether it trains.
template <class T>
struct Weight {
  std::string name;
  Variable<T> variable;
  bool trainable = true;
};

/// Base of every layer.
///
/// Contract for subclasses: `type()` returns the Keras class name; `build_impl(input_shape, gen)`
/// receives the per-sample input shape (no batch axis), creates the weights with `add_weight`
/// drawing from `gen`, and returns the per-sample output shape; `forward(x)` maps a batch
/// [batch, ...input_shape] to [batch, ...output_shape] by composing ops only (no gradient code).
/// A subclass may assume that forward() is only called once built and with an input whose shape
/// was validated against the built input shape. Layers whose last step is an activation
/// report it through `output_activation()` and implement `forward_pre_activation`, so that
/// losses can fuse softmax or sigmoid with cross-entropy as Keras does.
template <class T>
class Layer : public std::enable_shared_from_this<Layer<T>> {
 public:
  virtual ~Layer() = default;

  /// The Keras class name, e.g. "Dense".
  virtual std::string type() const = 0;

  /// The layer's name (unique within a model; "dense", "dense_1", ... when not given).
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  /// `Dense "dense_2"`: how error messages name this layer.
  std::string label() const {
    return type() + " \"" + (name_.empty() ? snake_case(type()) : name_) + "\"";
  }

  /// The per-sample input shape given in the options (Keras's input_shape), if any.
  const std::optional<Shape>& declared_input_shape() const { return declared_input_shape_; }

  /// Seed of the generator the weights (and any dropout masks) are drawn from.
  void set_seed(std::uint64_t seed) { seed_ = seed; }
  bool has_seed() const { return seed_.has_value(); }

  bool built() const { return built_; }
  /// Creates the weights for per-sample inputs of `input_shape` (no batch axis). Building twice
  /// with the same shape does nothing; with another shape it is an error.
  void build(const Shape& input_shape) {
    if (built_) {
      check<ShapeError>(input_shape == input_shape_, label(), ": already built for input ",
                        batch_shape_str(input_shape_), ", cannot rebuild for ",
                        batch_shape_str(input_shape));
      return;
    }
    if (!seed_) seed_ = next_default_seed();
    Generator gen(*seed_);
    output_shape_ = build_impl(input_shape, gen);
    input_shape_ = input_shape;
    built_ = true;
  }
  /// Per-sample input and output shapes (valid once built).
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  /// Applies the layer to a batch x: [batch, ...input_shape]; builds it on the first call.
  Variable<T> operator()(const Variable<T>& x) { return forward(validated(x)); }
  /// Applies the layer to several inputs (a merge layer such as Add); a one-input layer takes a
  /// list of one.
  Variable<T> operator()(const std::vector<Variable<T>>& xs) { return call_list(xs); }
  /// Records a call on a symbolic tensor of the functional API (Keras's `Dense(64)(inputs)`)
  /// and returns the symbolic output; the layer is built for the input's shape. The model's
  /// graph holds the layer itself when it lives in a std::shared_ptr, otherwise a copy made
  /// once per layer object (made from its config, so only an unbuilt layer of a registered
  /// class can be copied); calling the same object again shares that copy's weights, as Keras's
  /// shared layers do. Defined in models/functional.hpp.
  KerasTensor<T> operator()(const KerasTensor<T>& x);
  /// The same for a layer of several inputs: `Add<float>()({a, b})`.
  KerasTensor<T> operator()(const std::vector<KerasTensor<T>>& xs);
  /// Applies the layer to a list of inputs. A layer of one input (the default) takes a list of
  /// one; merge layers override it.
  virtual Variable<T> call_list(const std::vector<Variable<T>>& xs) {
    check<ValueError>(xs.size() == 1, label(), ": expected 1 input, got ", xs.size());
    return (*this)(xs.front());
  }
  /// Applies the layer without its final activation (see output_activation()).
  Variable<T> call_pre_activation(const Variable<T>& x) {
    return forward_pre_activation(validated(x));
  }
  /// The activation forward() applies last ("softmax", "sigmoid", ...), or "linear".
  virtual std::string output_activation() const { return "linear"; }

  /// All weights, trainable ones and the others.
  const std::vector<Weight<T>>& weights() const { return weights_; }
  /// The variables an optimizer updates: trainable weights of a trainable layer.
  std::vector<Variable<T>> trainable_variables() const {
    std::vector<Variable<T>> out;
    if (!trainable_) return out;
    for (const Weight<T>& w : weights_)
      if (w.trainable) out.push_back(w.variable);
    return out;
  }
  /// Copies of the weights' values, in weights() order (Keras's get_weights).
  std::vector<Tensor<T>> get_weights() const {
    std::vector<Tensor<T>> out;
    for (const Weight<T>& w : weights_) out.push_back(w.variable.value().clone());
    return out;
  }
  /// Overwrites the weights' values, in weights() order (Keras's set_weights); the count and
  /// each shape must match.
  void set_weights(const std::vector<Tensor<T>>& values) {
    check<ValueError>(values.size() == weights_.size(), label(), ": set_weights got ",
                      values.size(), " tensors, the layer has ", weights_.size(), " weights",
                      built_ ? "" : " (it is not built yet)");
    for (std::size_t i = 0; i < values.size(); ++i) {
      check<ShapeError>(values[i].shape() == weights_[i].variable.shape(), label(), ": weight '",
                        weights_[i].name, "' has shape ", weights_[i].variable.shape(), ", got ",
                        values[i].shape());
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      Tensor<T> target = weights_[i].variable.value();
      target.assign(values[i]);
    }
  }

  /// Number of scalars in all weights, and in the trainable ones.
  index_t count_params() const {
    index_t n = 0;
    for (const Weight<T>& w : weights_) n += w.variable.size();
    return n;
  }
  index_t count_trainable_params() const {
    index_t n = 0;
    for (const Variable<T>& v : trainable_variables()) n += v.size();
    return n;
  }

  /// Whether the optimizer updates this layer's weights (Keras's `layer.trainable`).
  bool trainable() const { return trainable_; }
  void set_trainable(bool on) {
    trainable_ = on;
    for (Weight<T>& w : weights_) w.variable.set_requires_grad(on && w.trainable);
  }
  /// Training mode (Dropout drops only then); models switch it around fit and predict.
  bool training() const { return training_; }
  void set_training(bool on) { training_ = on; }

  /// The layer's configuration, Keras's get_config(): every option needed to rebuild it with
  /// its class's `from_config` (see layers/registry.hpp), e.g. {"name": "dense", "trainable":
  /// true, "units": 64, "activation": "relu", ...}. Subclasses add their options to the base's.
  virtual Json get_config() const {
    Json c = {{"name", name_}, {"trainable", trainable_}};
    if (declared_input_shape_) c["input_shape"] = declared_input_shape_->dims();
    if (seed_) c["seed"] = *seed_;
    return c;
  }

  /// The state of the generator of call-time draws (Dropout's masks) as text, empty when it has
  /// not drawn yet; checkpoints keep it so that a resumed run draws the same masks.
  std::string rng_state() const { return call_gen_ ? call_gen_->state() : std::string(); }
  /// Restores rng_state(); an empty text forgets the generator (it restarts from the seed).
  void set_rng_state(const std::string& state) {
    if (state.empty()) {
      call_gen_.reset();
      return;
    }
    call_gen_.emplace(0);
    call_gen_->set_state(state);
  }

 protected:
  Layer() = default;
  /// `input_shape` is Keras's per-sample input_shape option; an empty (rank 0) one means none.
  Layer(std::string name, const Shape& input_shape) : name_(std::move(name)) {
    if (input_shape.rank() > 0) declared_input_shape_ = input_shape;
  }

  virtual Shape build_impl(const Shape& input_shape, Generator& gen) = 0;
  virtual Variable<T> forward(const Variable<T>& x) = 0;
  virtual Variable<T> forward_pre_activation(const Variable<T>& x) { return forward(x); }

  /// Registers a weight (requires grad when trainable) and returns it.
  Variable<T> add_weight(std::string name, Tensor<T> value, bool trainable = true) {
    Variable<T> v(std::move(value), trainable && trainable_);
    weights_.push_back({std::move(name), v, trainable});
    return v;
  }
  /// Registers, under `name`, a weight that an inner layer made (a wrapper such as
  /// Bidirectional): the variable is shared, so the gradients the inner layer's ops record are
  /// this weight's.
  Variable<T> add_shared_weight(std::string name, Variable<T> variable, bool trainable) {
    variable.set_requires_grad(trainable && trainable_);
    weights_.push_back({std::move(name), variable, trainable});
    return variable;
  }
  /// The generator of random draws at call time (Dropout), seeded from the layer's seed.
  Generator& call_generator() {
    if (!call_gen_) call_gen_.emplace(seed_.value_or(0) ^ 0x9E3779B97F4A7C15ULL);
    return *call_gen_;
  }

 private:
  static std::uint64_t next_default_seed() {
    return detail::default_seed_base() + detail::default_seed_counter<T>()++;
  }

  const Variable<T>& validated(const Variable<T>& x) {
    check<ShapeError>(x.rank() >= 1, label(), ": expected a batch [batch, ...], got a 0-D input");
    const Shape per_sample(std::vector<index_t>(x.shape().begin() + 1, x.shape().end()));
    if (!built_) {
      if (declared_input_shape_) {
        check<ShapeError>(per_sample == *declared_input_shape_, label(), ": expected input ",
                          batch_shape_str(*declared_input_shape_), ", got ", x.shape());
      }
      build(per_sample);
    }
    check<ShapeError>(per_sample == input_shape_, label(), ": expected input ",
                      batch_shape_str(input_shape_), ", got ", x.shape());
    return x;
  }

  template <class>
  friend struct detail::SymbolicCall;

  std::string name_;
  std::optional<Shape> declared_input_shape_;
  // The functional API's view of this layer (models/functional.hpp): the copy in the graph when
  // the layer is not held by a shared_ptr, and the number of symbolic calls so far.
  std::shared_ptr<Layer<T>> graph_copy_;
  int symbolic_calls_ = 0;
  std::optional<std::uint64_t> seed_;
  std::optional<Generator> call_gen_;
  std::vector<Weight<T>> weights_;
  Shape input_shape_, output_shape_;
  bool built_ = false;
  bool trainable_ = true;
  bool training_ = false;
};

}  // namespace lamina
