#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/callbacks/callback.hpp"
#include "lamina/callbacks/callback_list.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/metrics/metrics.hpp"
#include "lamina/models/batch_source.hpp"
#include "lamina/models/compile_args.hpp"
#include "lamina/models/history.hpp"
#include "lamina/models/model_file.hpp"
#include "lamina/models/output_heads.hpp"
#include "lamina/models/progress.hpp"
#include "lamina/models/step_check.hpp"
#include "lamina/models/strategy.hpp"
#include "lamina/models/summary.hpp"
#include "lamina/ops/activation.hpp"

namespace lamina {

/// Options of Model::fit (Keras's keyword arguments and defaults).
template <class T>
struct FitOptions {
  int epochs = 1;
  index_t batch_size = 32;
  bool shuffle = true;
  /// Fraction of the data, taken from the end before shuffling, held out for validation.
  double validation_split = 0.0;
  /// Explicit validation data (x, y), x a Tensor<T> or a ByteTensor; takes precedence over
  /// validation_split.
  std::optional<std::pair<ModelInput<T>, Tensor<T>>> validation_data{};
  /// 0 silent, 1 progress bar, 2 one line per epoch.
  int verbose = 1;
  /// Seed of the shuffling (epoch e's order depends only on the seed and e, so a run resumed
  /// with initial_epoch shuffles as the uninterrupted run did).
  std::uint64_t seed = 0;
  /// The epoch to start from (Keras's initial_epoch): training runs epochs initial_epoch + 1
  /// to `epochs`, e.g. to resume after load_model (model.epoch() says where it stopped).
  int initial_epoch = 0;
  /// Callbacks (EarlyStopping, ModelCheckpoint, CSVLogger, ReduceLROnPlateau, ...), called in
  /// this order after the progress line; see CallbackArg for how they are held.
  std::vector<CallbackArg<T>> callbacks{};
  /// Called after each epoch with its 0-based index and logs (e.g. to change the learning rate);
  /// a shorthand for a LambdaCallback after the others.
  std::function<void(int epoch, const Logs& logs)> on_epoch_end{};
  /// Where the progress goes (std::cout when null).
  std::ostream* output = nullptr;
  /// Keras's sample_weight: one weight per sample of x ([samples] or [samples, 1]), finite and
  /// non-negative. The loss becomes sum_i w_i loss_i / batch and the metrics weighted means;
  /// validation_split holds out the weights' tail with the data's.
  std::optional<Tensor<T>> sample_weight{};
  /// Keras's class_weight: the weight of each class, applied to the samples of that class as a
  /// sample_weight. A sample's class is its label: the integer in y ([samples] or [samples, 1],
  /// rounded, so 0/1 for binary targets) or the argmax of its one-hot row. Every class in y
  /// needs a weight. Not together with sample_weight.
  std::map<int, double> class_weight{};
  /// Validate after every validation_freq-th epoch only (epochs validation_freq,
  /// 2 validation_freq, ..., counted from 1 as Keras does).
  int validation_freq = 1;
  /// Batches per epoch (Keras's steps_per_epoch); 0 means one pass over the data. As in Keras,
  /// an epoch continues the pass where the previous one stopped, a pass that runs out ends its
  /// epoch early, and the next epoch starts a new (reshuffled) pass.
  index_t steps_per_epoch = 0;
  /// How the steps run across processes (lamina::distributed::DataParallel); null: here alone.
  /// batch_size stays the global batch, as in Keras.
  std::shared_ptr<FitStrategy<T>> strategy{};
};

/// Options of Model::evaluate and Model::predict.
struct EvaluateOptions {
  index_t batch_size = 32;
  int verbose = 0;
  std::ostream* output = nullptr;
};

template <class T>
struct KerasTensors;  // models/functional.hpp
struct FunctionalOptions;
namespace detail {
template <class T>
struct FunctionalGraph;
}  // namespace detail

/// Base of trainable models: compile / fit / evaluate / predict around a forward `call`.
///
/// Contract for subclasses: `call(x)` maps a batch to the model's output by calling layers
/// and ops; every layer it uses is added with `add_layer` (or `add_model`) (Sequential does this
/// itself), so that parameters, training mode and summaries reach it. A model whose output ends
/// with an activation may override `call_pre_activation` so that losses can fuse it (Keras's logits
/// path for softmax and sigmoid outputs).
///
/// A functional model is a Model itself, made from the symbolic tensors of the functional API
/// (models/functional.hpp), as Keras's `keras.Model(inputs, outputs)`:
///
///     auto inputs = Input<float>({784});
///     auto x = Dense<float>(64, {.activation = "relu"})(inputs);
///     auto outputs = Dense<float>(10, {.activation = "softmax"})(x);
///     Model<float> model(inputs, outputs, {.name = "mnist_model"});
template <class T>
class Model {
 public:
  using value_type = T;

  /// The functional model from `inputs` (Input<T>() tensors) to `outputs` (tensors computed
  /// from them); each is one tensor or a list {a, b}. Its layers are those of the graph, every
  /// layer once (a shared layer once), in an order that runs it; it is built already.
  Model(KerasTensors<T> inputs, KerasTensors<T> outputs, FunctionalOptions options);
  Model(KerasTensors<T> inputs, KerasTensors<T> outputs);

  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  /// Moves are safe: layers and sub-models are owned through shared pointers.
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;

  /// The model's forward pass: x [batch, ...] -> output [batch, ...]. A functional model runs
  /// its graph; other models override it.
  virtual Variable<T> call(const Variable<T>& x);
  /// The output before its final activation, and that activation's name ("linear" if none).
  virtual std::pair<Variable<T>, std::string> call_pre_activation(const Variable<T>& x);
  Variable<T> operator()(const Variable<T>& x) { return call(x); }

  const std::string& name() const { return name_; }
  /// The registered layers, in registration order, followed by those of registered sub-models.
  std::vector<Layer<T>*> layers() const {
    std::vector<Layer<T>*> all;
    for (const auto& [path, layer] : layer_paths()) all.push_back(layer);
    return all;
  }
  /// The layers with their paths in the model: "dense" for its own, "encoder/dense" for those
  /// of the sub-model added as "encoder". Model files name weights by these paths.
  std::vector<std::pair<std::string, Layer<T>*>> layer_paths() const {
    std::vector<std::pair<std::string, Layer<T>*>> all;
    for (const auto& l : layers_) all.emplace_back(l->name(), l.get());
    for (const auto& [prefix, child] : children_)
      for (const auto& [path, l] : child->layer_paths()) all.emplace_back(prefix + "/" + path, l);
    return all;
  }
  /// The layer at `path` in layer_paths() ("dense_1", "encoder/conv2d"), as Keras's
  /// model.get_layer(name); ValueError listing the valid paths otherwise.
  Layer<T>& get_layer(const std::string& path) const {
    std::string valid;
    for (const auto& [p, layer] : layer_paths()) {
      if (p == path) return *layer;
      valid += (valid.empty() ? "" : ", ") + p;
    }
    throw ValueError(name_ + ": get_layer: no layer named '" + path +
                     "'; layers: " + (valid.empty() ? "none" : valid));
  }
  /// The number of scalars in all weights, trainable or not (Keras's model.count_params()).
  index_t count_params() const {
    check<ValueError>(built(), name_,
                      ": count_params() needs a built model; call build(input_shape) first");
    index_t n = 0;
    for (const Layer<T>* l : layers()) n += l->count_params();
    return n;
  }
  /// Every weight with its path, "dense/kernel", "encoder/conv2d/bias", in layers() order.
  std::vector<std::pair<std::string, Variable<T>>> named_weights() const {
    std::vector<std::pair<std::string, Variable<T>>> out;
    for (const auto& [path, layer] : layer_paths())
      for (const Weight<T>& w : layer->weights()) out.emplace_back(path + "/" + w.name, w.variable);
    return out;
  }

  /// The class name load_model looks up to rebuild the model ("Sequential", "Autoencoder", or a
  /// custom class's name given to register_model); empty for a class that has none, which can
  /// then save its weights (save_weights) but not its architecture (save).
  virtual std::string class_name() const { return graph_ ? "Functional" : ""; }
  /// The model's configuration (Keras's get_config): what the factory registered for
  /// class_name() needs to rebuild it, without weights. The base gives {"name": name()}, a
  /// functional model its layers and how they connect.
  virtual Json get_config() const;
  /// The number of epochs fit has completed in all (restored by load_model from a file saved
  /// with the optimizer), for fit's initial_epoch.
  int epoch() const { return epoch_; }

  /// Writes the model to one safetensors file (atomically: a crash leaves the old file or the
  /// new one): its weights as "layer/weight" tensors; its architecture, compile settings and
  /// lamina's version as JSON in `__metadata__`; with include_optimizer (the default), the
  /// optimizer's state as "optimizer/layer/weight/slot" tensors, the epoch and the layers'
  /// random state too. load_model<T>(path) rebuilds it.
  void save(const std::string& path, SaveOptions options = {}) const {
    detail::ModelFile::save(*this, path, options);
  }
  /// Writes only the weights, as "layer/weight" tensors of a safetensors file (atomically).
  void save_weights(const std::string& path) const {
    SafetensorsWriter w;
    detail::write_format_metadata<T>(w, "weights");
    for (const auto& [path_, variable] : named_weights()) w.add(path_, variable.value());
    w.write(path);
  }
  /// Reads the weights of a file written by save_weights or save (any safetensors file whose
  /// tensors are named "layer/weight") into this built model, by name: a weight missing from
  /// the file, a tensor matching no weight, or a shape that differs is an IoError naming it.
  void load_weights(const std::string& path) {
    check<ValueError>(built(), name_,
                      ": load_weights() needs a built model; call build(input_shape) first");
    const SafetensorsFile f = SafetensorsFile::read(path);
    detail::assign_weights(*this, f);
  }
  /// Restores what save() wrote into this model, which has the file's architecture and is
  /// built (load_model does both first): the weights; the compile settings, when saved; the
  /// optimizer's state, the epoch and the random state, when saved.
  void restore(const SafetensorsFile& f) { detail::ModelFile::restore(*this, f); }
  /// {"class_name": ..., "config": ..., "build_config": {"input_shape": [...]}}: how a model
  /// file (or an enclosing model's config) describes this model.
  Json spec() const {
    Json s = {{"class_name", class_name()}, {"config", get_config()}};
    if (build_input_shape_) s["build_config"] = {{"input_shape", build_input_shape_->dims()}};
    return s;
  }

  /// Runs one sample of shape `input_shape` (no batch axis) through the model so that every
  /// layer creates its weights.
  void build(const Shape& input_shape) {
    if (graph_) {
      build_functional(input_shape);
      return;
    }
    build_input_shape_ = input_shape;
    std::vector<index_t> dims{1};
    dims.insert(dims.end(), input_shape.begin(), input_shape.end());
    NoGradGuard no_grad;
    set_training(false);
    call(Variable<T>(Tensor<T>(Shape(std::move(dims)))));
  }
  bool built() const {
    const std::vector<Layer<T>*> all = layers();
    return !all.empty() &&
           std::all_of(all.begin(), all.end(), [](const Layer<T>* l) { return l->built(); });
  }

  /// Sets the optimizer, the loss and the metrics, by name or as objects:
  /// `compile("adam", "binary_crossentropy", {"accuracy", "auc", Precision<float>()})`. The
  /// metrics' names are the keys of the logs and History ("auc", "val_auc"); two metrics with
  /// the same name are a ValueError.
  void compile(OptimizerArg<T> optimizer, LossArg<T> loss, std::vector<MetricArg<T>> metrics = {}) {
    auto loss_object = loss.release();
    std::vector<std::unique_ptr<Metric<T>>> made;
    Json specs = Json::array();
    for (const MetricArg<T>& m : metrics) {
      made.push_back(m.make(loss_object->name()));
      specs.push_back(m.spec());
      for (std::size_t i = 0; i + 1 < made.size(); ++i)
        check<ValueError>(made[i]->name() != made.back()->name(),
                          "compile: two metrics are named '", made.back()->name(),
                          "'; give one of them another name");
    }
    optimizer_ = optimizer.release();
    loss_ = std::move(loss_object);
    metrics_ = std::move(made);
    metric_specs_ = std::move(specs);
    optimizer_built_ = false;
    outputs_.clear();
    if (output_count() > 1) {
      // Keras: one loss for a model of several outputs applies to each of them.
      std::vector<std::unique_ptr<Loss<T>>> each;
      for (std::size_t i = 0; i < output_count(); ++i) each.push_back(loss_->clone());
      compile_outputs(std::move(each), metrics, {});
    }
  }
  /// compile for a functional model of several outputs (Keras's `loss=[...]`, `loss_weights=
  /// [...]`): one loss per output, in the order of the model's outputs, and optionally one weight
  /// each (default 1). The loss fit minimises is sum_i weight_i loss_i; the logs hold it as
  /// "loss" and each output's as "<output layer name>_loss"; each metric is computed for each
  /// output, as "<output layer name>_<metric>".
  void compile(OptimizerArg<T> optimizer, std::vector<LossArg<T>> losses,
               std::vector<MetricArg<T>> metrics = {}, std::vector<double> loss_weights = {}) {
    check<ValueError>(losses.size() == output_count(), name_, ": compile got ", losses.size(),
                      " losses for ", output_count(), " outputs");
    std::vector<std::unique_ptr<Loss<T>>> made;
    for (LossArg<T>& l : losses) made.push_back(l.release());
    compile(std::move(optimizer), LossArg<T>(*made.front()), {});
    compile_outputs(std::move(made), metrics, std::move(loss_weights));
    metric_specs_ = Json::array();
    for (const MetricArg<T>& m : metrics) metric_specs_.push_back(m.spec());
  }
  /// Whether compile() was called (a GAN's own compile counts too).
  virtual bool compiled() const { return optimizer_ != nullptr; }
  Optimizer<T>& optimizer() {
    require_compiled("optimizer");
    return *optimizer_;
  }
  const Loss<T>& loss() const {
    require_compiled("loss");
    return *loss_;
  }

  /// The variables the optimizer updates (trainable weights of all layers).
  std::vector<Variable<T>> trainable_variables() const {
    std::vector<Variable<T>> out;
    for (const Layer<T>* l : layers())
      for (Variable<T>& v : l->trainable_variables()) out.push_back(std::move(v));
    return out;
  }

  /// Trains for `epochs` passes over x: [samples, ...] with targets y: [samples, ...]. x is a
  /// Tensor<T>, or a ByteTensor whose batches are converted to T (with its scale and offset) just
  /// before their steps, as Keras does with uint8 arrays; either gives the same results.
  History fit(const ModelInput<T>& x, const Tensor<T>& y, FitOptions<T> options = {}) {
    require_single("fit");
    return run_fit(x, &y, std::move(options));
  }
  /// Trains on x alone, for models whose train_step needs no targets (GAN).
  History fit(const ModelInput<T>& x, FitOptions<T> options = {}) {
    return run_fit(x, nullptr, std::move(options));
  }

  /// fit for a functional model of several inputs or outputs: one array per input (in the
  /// order of the model's inputs) and one target per output, all with the same number of
  /// samples: `model.fit({title, body}, {priority, department})`, or `model.fit({x}, {y1, y2})`
  /// for one input. Everything else is as in
  /// fit(x, y); validation_data is not supported for such models yet (validation_split is).
  History fit(const std::vector<ModelInput<T>>& x, const std::vector<Tensor<T>>& y,
              FitOptions<T> options = {}) {
    check<ValueError>(!options.validation_data, name_,
                      ": validation_data for a model of several inputs or outputs is not "
                      "supported yet; use validation_split");
    check<ValueError>(options.class_weight.empty() || y.size() == 1, name_,
                      ": class_weight needs a model of one output (use sample_weight)");
    const Tensor<T> packed = pack_targets("fit", y);
    return run_fit(pack_inputs("fit", x), &packed, std::move(options));
  }
  History fit(const std::vector<ModelInput<T>>& x, const Tensor<T>& y, FitOptions<T> options = {}) {
    return fit(x, std::vector<Tensor<T>>{y}, std::move(options));
  }
  /// evaluate for a functional model of several inputs or outputs (see fit).
  Logs evaluate(const std::vector<ModelInput<T>>& x, const std::vector<Tensor<T>>& y,
                EvaluateOptions options = {}) {
    require_compiled("evaluate");
    const Tensor<T> packed = pack_targets("evaluate", y);
    return evaluate_batches("evaluate", pack_inputs("evaluate", x), packed, options);
  }
  Logs evaluate(const ModelInput<T>& x, const std::vector<Tensor<T>>& y,
                EvaluateOptions options = {}) {
    return evaluate(std::vector<ModelInput<T>>{x}, y, options);
  }
  Logs evaluate(const std::vector<ModelInput<T>>& x, const Tensor<T>& y,
                EvaluateOptions options = {}) {
    return evaluate(x, std::vector<Tensor<T>>{y}, options);
  }
  /// predict for a functional model of several inputs and one output.
  Tensor<T> predict(const std::vector<ModelInput<T>>& x, EvaluateOptions options = {}) {
    check<ValueError>(output_count() == 1, name_, ": the model has ", output_count(),
                      " outputs; use predict_outputs()");
    return predict_packed(pack_inputs("predict", x), options);
  }
  /// The outputs of a functional model, one array per output (Keras's predict of a model of
  /// several outputs).
  std::vector<Tensor<T>> predict_outputs(const std::vector<ModelInput<T>>& x,
                                         EvaluateOptions options = {}) {
    const Tensor<T> packed = predict_packed(pack_inputs("predict", x), options);
    return output_count() == 1 ? std::vector<Tensor<T>>{packed}
                               : detail::unpack_columns(packed, output_shapes());
  }
  std::vector<Tensor<T>> predict_outputs(const ModelInput<T>& x, EvaluateOptions options = {}) {
    return predict_outputs(std::vector<ModelInput<T>>{x}, options);
  }
  /// How many inputs and outputs the model has (1 and 1 unless it is functional).
  std::size_t input_count() const;
  std::size_t output_count() const;

  /// Set by a callback (EarlyStopping, TerminateOnNaN) to end fit after the current batch
  /// (Keras's model.stop_training); fit clears it when it starts.
  bool stop_training = false;

  /// One optimisation step on one batch; returns the batch's mean loss.
  double train_on_batch(const ModelInput<T>& x, const Tensor<T>& y) {
    require_compiled("train_on_batch");
    check_data("train_on_batch", x, &y);
    prepare(x.shape());
    set_training(true);
    reset_metrics();
    place_ = {"train_on_batch"};
    const Logs logs = train_step(x.batch(0, x.shape()[0]), &y, nullptr);
    set_training(false);
    return logs.at("loss");
  }

  /// The loss and metrics on x, y (inference mode, no graph recorded); x as in fit.
  Logs evaluate(const ModelInput<T>& x, const Tensor<T>& y, EvaluateOptions options = {}) {
    require_compiled("evaluate");
    require_single("evaluate");
    return evaluate_batches("evaluate", x, y, options);
  }

  /// Copies of every weight, in named_weights() order (Keras's model.get_weights()).
  std::vector<Tensor<T>> get_weights() const {
    std::vector<Tensor<T>> out;
    for (const auto& [path, variable] : named_weights()) out.push_back(variable.value().clone());
    return out;
  }
  /// Overwrites every weight, in named_weights() order; the count and shapes must match.
  void set_weights(const std::vector<Tensor<T>>& values) {
    const auto weights = named_weights();
    check<ValueError>(values.size() == weights.size(), name_, ": set_weights got ", values.size(),
                      " tensors, the model has ", weights.size(), " weights");
    for (std::size_t i = 0; i < values.size(); ++i)
      check<ShapeError>(values[i].shape() == weights[i].second.shape(), name_, ": weight '",
                        weights[i].first, "' has shape ", weights[i].second.shape(), ", got ",
                        values[i].shape());
    for (std::size_t i = 0; i < values.size(); ++i) {
      Tensor<T> target = weights[i].second.value();
      target.assign(values[i]);
    }
  }

  /// The model's outputs for x: [samples, ...], computed in batches in inference mode; x as in fit.
  Tensor<T> predict(const ModelInput<T>& x, EvaluateOptions options = {}) {
    require_single("predict");
    return predict_packed(x, options);
  }

  /// Prints Keras's table: each layer's name, type, output shape and parameter count, then the
  /// totals.
  void summary(std::ostream& out = std::cout) const {
    check(built(), name_,
          ": summary() needs a built model; give the first layer an input_shape, or call build() "
          "or fit() first");
    if (graph_)
      print_functional_summary(out);
    else
      print_summary(out, name_, layers());
  }

  /// Switches every layer between training and inference behaviour.
  void set_training(bool on) {
    for (Layer<T>* l : layers()) l->set_training(on);
  }

 private:
  /// predict on x as fit batches it (a functional model's several inputs side by side, its
  /// several outputs likewise).
  Tensor<T> predict_packed(const ModelInput<T>& x, const EvaluateOptions& options) {
    check<ShapeError>(x.shape().rank() >= 1 && x.shape()[0] > 0,
                      "predict: expected a non-empty batch, got ", x.shape());
    check<ValueError>(options.batch_size > 0, "predict: batch_size must be positive, got ",
                      options.batch_size);
    NoGradGuard no_grad;
    set_training(false);
    const index_t n = x.shape()[0];
    Tensor<T> result;
    for (index_t begin = 0; begin < n; begin += options.batch_size) {
      const index_t end = std::min(n, begin + options.batch_size);
      const Tensor<T> yb = call(Variable<T>(x.batch(begin, end))).value();
      if (begin == 0) {
        std::vector<index_t> dims(yb.shape().begin(), yb.shape().end());
        dims[0] = n;
        result = Tensor<T>::empty(Shape(std::move(dims)));
      }
      std::copy(yb.begin(), yb.end(), result.data() + begin * (result.size() / n));
    }
    return result;
  }

 protected:
  explicit Model(std::string name = "model") : name_(std::move(name)) {}

  /// Adds a layer to the model and returns it; the model owns it, so a subclass can keep the
  /// reference as a member: `Dense<float>& hidden_ = add_layer(Dense<float>(64));`. Names left
  /// empty become Keras's "dense", "dense_1", ...; a duplicate name is an error.
  template <class L>
  requires std::derived_from<L, Layer<T>> L& add_layer(L layer) {
    auto owned = std::make_shared<L>(std::move(layer));
    L& ref = *owned;
    add_layer(std::shared_ptr<Layer<T>>(std::move(owned)));
    return ref;
  }
  /// Adds a layer that may be shared with other models.
  Layer<T>& add_layer(std::shared_ptr<Layer<T>> layer) {
    check<ValueError>(layer != nullptr, name_, ": cannot add a null layer");
    if (layer->name().empty()) {
      const std::string base = snake_case(layer->type());
      std::string name = base;
      for (int k = 1; has_layer(name); ++k) name = base + "_" + std::to_string(k);
      layer->set_name(name);
    }
    check<ValueError>(!has_layer(layer->name()), name_, ": a layer named '", layer->name(),
                      "' is already in the model");
    if (!layer->has_seed()) layer->set_seed(seed_ + 7919ULL * layers_.size());
    layers_.push_back(std::move(layer));
    return *layers_.back();
  }
  /// Adds a sub-model (an encoder, a generator): its layers become part of this model's
  /// parameters and training mode; their names stay unique within the sub-model, and their
  /// paths in the model (and its files) start with `path` ("encoder/dense"), by default the
  /// sub-model's name. Paths must be unique.
  template <class M>
  requires std::derived_from<M, Model<T>> M& add_model(M model, std::string path = "") {
    auto owned = std::make_shared<M>(std::move(model));
    M& ref = *owned;
    add_model(std::shared_ptr<Model<T>>(std::move(owned)), std::move(path));
    return ref;
  }
  Model<T>& add_model(std::shared_ptr<Model<T>> model, std::string path = "") {
    check<ValueError>(model != nullptr && model.get() != this, name_,
                      ": add_model() needs another, non-null model");
    if (path.empty()) path = model->name();
    for (const auto& [other, child] : children_)
      check<ValueError>(other != path, name_, ": a sub-model at path '", path,
                        "' is already in the model");
    children_.emplace_back(std::move(path), std::move(model));
    return *children_.back().second;
  }
  bool has_layer(const std::string& name) const {
    return std::any_of(layers_.begin(), layers_.end(),
                       [&](const auto& l) { return l->name() == name; });
  }
  void set_seed(std::uint64_t seed) { seed_ = seed; }

  /// One training step on a batch x (with targets y, or null when fit got none, and the
  /// batch's sample weights, or null), Keras 3's customisation point: compute the loss, check
  /// it and its gradients (detail::check_finite_* with step_place()), update the weights,
  /// update the metrics, and return the epoch's running logs so far ({"loss": mean over the
  /// batches so far, metric: value}). fit calls it in training mode after reset_metrics() at
  /// each epoch's start.
  virtual Logs train_step(const Tensor<T>& x, const Tensor<T>* y, const Tensor<T>* sample_weight) {
    check<ValueError>(y != nullptr, name_, ": fit needs targets y for the loss '", loss_->name(),
                      "'");
    optimizer_->zero_grad();
    Variable<T> loss = loss_of(x, *y, sample_weight);
    const double value = double(loss.item());
    detail::check_finite_loss(value, place_);
    loss.backward();
    detail::check_finite_gradients(layers(), place_);
    if (strategy_) strategy_->reduce_gradients(optimizer_->parameters());
    optimizer_->step();
    loss_sum_ += value * double(x.dim(0));
    loss_count_ += double(x.dim(0));
    return metric_logs();
  }
  /// One evaluation step (evaluate, fit's validation): the loss and metrics of a batch added
  /// to the running logs, in inference mode with no graph recorded.
  virtual Logs test_step(const Tensor<T>& x, const Tensor<T>* y) {
    check<ValueError>(y != nullptr && loss_ != nullptr, name_,
                      ": evaluation needs targets y and a compiled loss");
    loss_sum_ += forward_loss(x, *y) * double(x.dim(0));
    loss_count_ += double(x.dim(0));
    return metric_logs();
  }
  /// Resets the running loss and metrics (at each epoch's start, before evaluating).
  virtual void reset_metrics() {
    loss_sum_ = loss_count_ = 0;
    for (auto& m : metrics_) m->reset();
    outputs_.reset();
  }
  /// Builds the model for samples like x ([samples, ...]) and hands the current trainable
  /// variables to the optimizer (Optimizer::set_parameters); a model with its own optimizers
  /// (GAN) overrides it.
  virtual void prepare(const Shape& x) {
    if (!built() || !build_input_shape_) build(Shape(std::vector<index_t>(x.begin() + 1, x.end())));
    // The variables trainable now: a layer added since the last fit is trained from this fit
    // on (its optimizer state starts at zero) and a layer made non-trainable is left alone;
    // the state of the others and the iteration count carry over.
    optimizer_->set_parameters(trainable_variables());
    optimizer_built_ = true;
  }
  /// Where the running training step is, for its error messages.
  const detail::StepPlace& step_place() const { return place_; }
  /// The seed of the running (or last) fit.
  std::uint64_t fit_seed() const { return fit_seed_; }

 private:
  void require_compiled(const char* what) const {
    check(compiled(), name_, ": ", what, " needs a compiled model; call compile(...) first");
  }
  /// Checks that the model has one input and one output, for the single-array entry points.
  void require_single(const char* op) const {
    check<ValueError>(input_count() == 1, name_, ": ", op, ": the model has ", input_count(),
                      " inputs; pass one array per input, e.g. {x1, x2}");
    check<ValueError>(output_count() == 1, name_, ": ", op, ": the model has ", output_count(),
                      " outputs; pass one target per output, e.g. {y1, y2}");
  }
  std::vector<Shape> output_shapes() const {
    std::vector<Shape> out;
    for (const KerasTensor<T>& t : graph_outputs()) out.push_back(t.shape());
    return out;
  }
  const std::vector<KerasTensor<T>>& graph_outputs() const;
  /// A functional model's inputs as fit batches them: one array per input, checked against the
  /// inputs' shapes, side by side (detail::pack_columns) when there are several.
  ModelInput<T> pack_inputs(const char* op, const std::vector<ModelInput<T>>& x) const {
    check<ValueError>(x.size() == input_count(), name_, ": ", op, " got ", x.size(),
                      " input arrays for a model of ", input_count(), " inputs");
    if (x.size() == 1) return x.front();
    std::vector<Tensor<T>> parts;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const Shape& s = x[i].shape();
      const Shape& want = graph_input_shape(i);
      check<ShapeError>(
          s.rank() == want.rank() + 1 && std::equal(want.begin(), want.end(), s.begin() + 1), name_,
          ": ", op, ": input ", i, " must be ", batch_shape_str(want), ", got ", s);
      check<ValueError>(s[0] > 0 && s[0] == x[0].shape()[0], name_, ": ", op, ": input ", i,
                        " has ", s[0], " samples but input 0 has ", x[0].shape()[0]);
      parts.push_back(x[i].batch(0, s[0]));
    }
    return detail::pack_columns(parts);
  }
  /// The targets, one per output, side by side when there are several.
  Tensor<T> pack_targets(const char* op, const std::vector<Tensor<T>>& y) const {
    check<ValueError>(y.size() == output_count(), name_, ": ", op, " got ", y.size(),
                      " targets for a model of ", output_count(), " outputs");
    for (std::size_t i = 0; i < y.size(); ++i)
      check<ValueError>(y[i].rank() >= 1 && y[i].dim(0) == y[0].dim(0) && y[0].dim(0) > 0, name_,
                        ": ", op, ": target ", i, " has shape ", y[i].shape(), " but target 0 has ",
                        y[0].shape(), " (one target per output, same number of samples)");
    if (y.size() == 1) return y.front();
    return outputs_.pack_targets(y);
  }
  const Shape& graph_input_shape(std::size_t i) const;
  /// Per-output losses, weights and metrics of a model of several outputs.
  void compile_outputs(std::vector<std::unique_ptr<Loss<T>>> losses,
                       const std::vector<MetricArg<T>>& metrics, std::vector<double> weights) {
    outputs_.compile(name_, std::move(losses), metrics, std::move(weights));
    metrics_.clear();
  }
  static void check_data(const char* op, const ModelInput<T>& source, const Tensor<T>* y) {
    const Shape& x = source.shape();
    check<ValueError>(x.rank() >= 1 && x[0] > 0, op, ": x is empty (shape ", x, ")");
    if (!y) return;
    check<ShapeError>(y->rank() >= 1 && y->dim(0) == x[0], op, ": x has ", x[0],
                      " samples but y has ", y->rank() >= 1 ? y->dim(0) : 0, " (x ", x, ", y ",
                      y->shape(), ")");
  }

  /// fit's loop (models/fit.hpp): batching, shuffling, sample weights, validation and the
  /// callbacks around train_step.
  History run_fit(const ModelInput<T>& x, const Tensor<T>* y, FitOptions<T> options);

  /// Validates all of y against the model's output shape for x before any step runs.
  void check_targets(const ModelInput<T>& x, const Tensor<T>& y) {
    NoGradGuard no_grad;
    set_training(false);
    Shape one;
    try {
      one = call(Variable<T>(x.batch(0, 1))).shape();
    } catch (const ShapeError& e) {
      throw ShapeError(detail::cat(name_, ": data x of shape ", x.shape(),
                                   " does not fit the model: ", e.what()));
    }
    if (!outputs_.empty()) return outputs_.check_targets(x.shape()[0], output_shapes(), y);
    std::vector<index_t> dims(one.begin(), one.end());
    dims[0] = x.shape()[0];
    loss_->check_targets(Shape(std::move(dims)), y);
  }
  /// evaluate's loop, also fit's validation: the loss and metrics over x, y in batches.
  Logs evaluate_batches(const char* op, const ModelInput<T>& x, const Tensor<T>& y,
                        const EvaluateOptions& options) {
    check_data(op, x, &y);
    check<ValueError>(options.batch_size > 0, op, ": batch_size must be positive, got ",
                      options.batch_size);
    NoGradGuard no_grad;
    set_training(false);
    reset_metrics();
    const index_t n = x.shape()[0];
    const index_t steps = detail::batch_count(n, options.batch_size);
    ProgressBar bar(steps, options.verbose, options.output ? *options.output : std::cout);
    Logs logs;
    for (index_t step = 0; step < steps; ++step) {
      const index_t begin = step * options.batch_size,
                    end = std::min(n, begin + options.batch_size);
      const Tensor<T> yb = y.slice(begin, end);
      logs = test_step(x.batch(begin, end), &yb);
      bar.update(step + 1, logs);
    }
    bar.finish(logs);
    return logs;
  }
  /// The loss of one batch, weighted per sample when `w` is given (graph recorded unless under
  /// NoGradGuard); updates the metrics.
  Variable<T> loss_of(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>* w = nullptr) {
    if (!outputs_.empty()) return outputs_.loss(run_graph(Variable<T>(x)), y, w);
    const std::string fusable = loss_->fusable_activation();
    const auto apply = [&](const Variable<T>& out) {
      return w ? (*loss_)(out, y, *w) : (*loss_)(out, y);
    };
    Variable<T> loss;
    Tensor<T> y_pred;
    if (!fusable.empty()) {
      auto [pre, activation] = call_pre_activation(Variable<T>(x));
      if (activation == fusable) {
        loss = w ? loss_->from_logits(pre, y, *w) : loss_->from_logits(pre, y);
        NoGradGuard no_grad;
        y_pred = activation_by_name<T>(activation)(pre.detach()).value();
      } else {
        const Variable<T> out = activation_by_name<T>(activation)(pre);
        loss = apply(out);
        y_pred = out.value();
      }
    } else {
      const Variable<T> out = call(Variable<T>(x));
      loss = apply(out);
      y_pred = out.value();
    }
    for (auto& m : metrics_) m->update(y_pred, y, w);
    return loss;
  }
  /// A functional model's outputs for x as fit batches it (several inputs side by side).
  std::vector<Variable<T>> run_graph(const Variable<T>& x) const;
  double forward_loss(const Tensor<T>& x, const Tensor<T>& y) {
    return double(loss_of(x, y).item());
  }
  /// Throws NonFiniteError when fit's validation loss is not finite, naming the first
  /// non-finite value of the validation data if there is one.
  static void check_validation_loss(double loss, int epoch, const ModelInput<T>& x,
                                    const Tensor<T>& y) {
    if (std::isfinite(loss)) [[likely]]
      return;
    const Tensor<T> xs = x.batch(0, x.shape()[0]);
    const index_t in_x = detail::first_non_finite(xs.data(), xs.size());
    const index_t in_y = detail::first_non_finite(y.data(), y.size());
    const Tensor<T>& data = in_x >= 0 ? xs : y;
    const index_t at = in_x >= 0 ? in_x : in_y;
    if (at >= 0)
      detail::fail<NonFiniteError>(
          "fit: the validation loss became ", detail::non_finite_name(loss), " at epoch ", epoch,
          ": validation ", in_x >= 0 ? "x" : "y", " holds ",
          detail::non_finite_name(double(data.data()[at])), " in sample ",
          at / (data.size() / data.dim(0)), " (check the validation data)");
    detail::fail<NonFiniteError>("fit: the validation loss became ", detail::non_finite_name(loss),
                                 " at epoch ", epoch,
                                 " (the validation data is finite; the model's outputs are not)");
  }
  Logs metric_logs() const {
    Logs logs{{"loss", loss_count_ > 0 ? loss_sum_ / loss_count_ : 0.0}};
    for (const auto& m : metrics_) logs[m->name()] = m->result();
    if (!outputs_.empty()) {
      std::vector<std::string> names;
      for (const KerasTensor<T>& t : graph_outputs()) names.push_back(t.layer().name());
      outputs_.add_logs(logs, names, loss_count_);
    }
    return logs;
  }

  // The functional model's parts (models/functional.hpp).
  void build_functional(const Shape& input_shape);
  void print_functional_summary(std::ostream& out) const;

  std::string name_;
  std::uint64_t seed_ = 0;
  std::shared_ptr<const detail::FunctionalGraph<T>> graph_;  // a functional model's graph
  std::vector<std::shared_ptr<Layer<T>>> layers_;
  std::vector<std::pair<std::string, std::shared_ptr<Model<T>>>> children_;
  std::unique_ptr<Optimizer<T>> optimizer_;
  std::unique_ptr<Loss<T>> loss_;
  std::vector<std::unique_ptr<Metric<T>>> metrics_;
  Json metric_specs_ = Json::array();  // how compile got each metric (MetricArg::spec)
  detail::OutputHeads<T> outputs_;     // a functional model of several outputs: theirs
  std::optional<Shape> build_input_shape_;
  int epoch_ = 0;
  bool optimizer_built_ = false;
  double loss_sum_ = 0, loss_count_ = 0;
  std::uint64_t fit_seed_ = 0;
  detail::StepPlace place_;
  FitStrategy<T>* strategy_ = nullptr;  // the running fit's, for train_step

  /// fit's loop proper (run_fit wraps it for a strategy's failure handling).
  History fit_loop(const ModelInput<T>& x, const Tensor<T>* y, FitOptions<T>& options);

  friend struct detail::ModelFile;
};

}  // namespace lamina

// The definition of Model::run_fit, kept apart from the class for length.
#include "lamina/models/fit.hpp"
// The functional API and the functional model's members.
#include "lamina/models/functional.hpp"
