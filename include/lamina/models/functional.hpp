#pragma once

/// The functional API (Keras's): Input<T>(shape) gives a symbolic tensor, calling a layer on
/// symbolic tensors records a node of a graph, and Model<T>(inputs, outputs) runs that graph.
/// Included by model.hpp after the class.

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/layers/input_layer.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/layers/merge.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/models/model.hpp"

namespace lamina {

namespace detail {

/// One call of a layer in a functional graph: the layer, the symbolic tensors it was called on
/// (none for an InputLayer), its per-sample output shape, and which call of the layer it was
/// (Keras's node index: 0, then 1 for a shared layer's second call, ...).
template <class T>
struct GraphNode {
  std::shared_ptr<Layer<T>> layer;
  std::vector<KerasTensor<T>> inputs;
  Shape shape;
  int call_index = 0;
};

}  // namespace detail

/// A symbolic tensor of the functional API (Keras's KerasTensor): the output of Input<T>() or
/// of a layer called on symbolic tensors. It holds no values, only its per-sample shape and the
/// call that made it; copies refer to the same tensor.
template <class T>
class KerasTensor {
 public:
  /// The per-sample shape (Keras prints it with a leading None for the batch).
  const Shape& shape() const { return node_->shape; }
  /// The layer whose output this is (an InputLayer for Input's tensors).
  Layer<T>& layer() const { return *node_->layer; }
  /// `dense_1[0][0]`: how summaries name the tensor (layer, call, output).
  std::string label() const {
    return node_->layer->name() + "[" + std::to_string(node_->call_index) + "][0]";
  }
  const detail::GraphNode<T>& node() const { return *node_; }
  bool operator==(const KerasTensor& other) const { return node_ == other.node_; }

 private:
  explicit KerasTensor(std::shared_ptr<const detail::GraphNode<T>> node) : node_(std::move(node)) {}
  std::shared_ptr<const detail::GraphNode<T>> node_;
  friend struct detail::SymbolicCall<T>;
};

namespace detail {

/// How Layer<T>::operator() on symbolic tensors and Input<T>() make graph nodes.
template <class T>
struct SymbolicCall {
  /// The tensor of a new InputLayer.
  static KerasTensor<T> input(std::shared_ptr<Layer<T>> layer) {
    const Shape shape = *layer->declared_input_shape();
    layer->build(shape);
    auto node = std::make_shared<GraphNode<T>>(GraphNode<T>{std::move(layer), {}, shape, 0});
    node->call_index = node->layer->symbolic_calls_++;
    return KerasTensor<T>(std::move(node));
  }

  /// Records `layer` called on `xs`: the layer (or its graph copy) is built by running it once
  /// on one sample of zeros, in inference mode with no graph, which also gives the output shape
  /// and checks the inputs as a real call would.
  static KerasTensor<T> call(Layer<T>& layer, const std::vector<KerasTensor<T>>& xs) {
    check<ValueError>(!xs.empty(), layer.label(), ": called on an empty list of inputs");
    std::shared_ptr<Layer<T>> self = layer.weak_from_this().lock();
    if (!self) {
      if (!layer.graph_copy_) layer.graph_copy_ = copy_for_graph(layer);
      self = layer.graph_copy_;
    }
    std::vector<Variable<T>> probes;
    for (const KerasTensor<T>& x : xs) {
      std::vector<index_t> dims{1};
      dims.insert(dims.end(), x.shape().begin(), x.shape().end());
      probes.emplace_back(Tensor<T>(Shape(std::move(dims))));
    }
    Shape out;
    {
      NoGradGuard no_grad;
      const bool training = self->training();
      self->set_training(false);
      const Variable<T> y = self->call_list(probes);
      self->set_training(training);
      out = Shape(std::vector<index_t>(y.shape().begin() + 1, y.shape().end()));
    }
    auto node = std::make_shared<GraphNode<T>>(GraphNode<T>{self, xs, out, 0});
    node->call_index = self->symbolic_calls_++;
    return KerasTensor<T>(std::move(node));
  }

 private:
  /// A copy of an unbuilt layer of a registered class, made from its config.
  static std::shared_ptr<Layer<T>> copy_for_graph(const Layer<T>& layer) {
    check<ValueError>(!layer.built(), layer.label(),
                      ": a built layer called on symbolic tensors must be held by a "
                      "std::shared_ptr (auto layer = std::make_shared<...>(...); (*layer)(x))");
    check<ValueError>(layer_registry<T>().contains(layer.type()), layer.label(),
                      ": to call a layer of class '", layer.type(),
                      "' on symbolic tensors, hold it in a std::shared_ptr or register its "
                      "class with register_layer");
    return layer_from_spec<T>(layer_spec(layer));
  }
};

}  // namespace detail

template <class T>
KerasTensor<T> Layer<T>::operator()(const KerasTensor<T>& x) {
  return detail::SymbolicCall<T>::call(*this, {x});
}
template <class T>
KerasTensor<T> Layer<T>::operator()(const std::vector<KerasTensor<T>>& xs) {
  return detail::SymbolicCall<T>::call(*this, xs);
}

/// The symbolic input of a functional model (Keras's keras.Input): samples of `shape` (no batch
/// axis), e.g. `auto inputs = Input<float>({28, 28, 1});`. Its layer is an InputLayer named
/// options.name, or "input_layer", "input_layer_1", ... by the model.
template <class T = float>
KerasTensor<T> Input(Shape shape, InputOptions options = {}) {
  return detail::SymbolicCall<T>::input(
      std::make_shared<InputLayer<T>>(std::move(shape), std::move(options)));
}

// Keras's functional forms of the merge layers: `add({x, shortcut})` is `Add()({x, shortcut})`.
template <class T>
KerasTensor<T> add(std::initializer_list<KerasTensor<T>> xs) {
  return Add<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> subtract(std::initializer_list<KerasTensor<T>> xs) {
  return Subtract<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> multiply(std::initializer_list<KerasTensor<T>> xs) {
  return Multiply<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> average(std::initializer_list<KerasTensor<T>> xs) {
  return Average<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> maximum(std::initializer_list<KerasTensor<T>> xs) {
  return Maximum<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> minimum(std::initializer_list<KerasTensor<T>> xs) {
  return Minimum<T>()(std::vector<KerasTensor<T>>(xs));
}
template <class T>
KerasTensor<T> concatenate(std::initializer_list<KerasTensor<T>> xs, int axis = -1) {
  return Concatenate<T>(axis)(std::vector<KerasTensor<T>>(xs));
}

/// One symbolic tensor or a list of them: what Model<T>(inputs, outputs) takes for either.
template <class T>
struct KerasTensors {
  KerasTensors(KerasTensor<T> x) : list{std::move(x)} {}  // NOLINT: implicit, as in Keras
  KerasTensors(std::initializer_list<KerasTensor<T>> xs) : list(xs) {}
  KerasTensors(std::vector<KerasTensor<T>> xs) : list(std::move(xs)) {}  // NOLINT
  std::vector<KerasTensor<T>> list;
};

/// Options of a functional model.
struct FunctionalOptions {
  std::string name = "functional";
};

namespace detail {

/// A functional model's graph in an order that runs it: every node after its inputs.
template <class T>
struct FunctionalGraph {
  struct Step {
    Layer<T>* layer;
    std::vector<std::size_t> inputs;  // indices into steps
    int consumers = 0;
  };
  std::vector<const GraphNode<T>*> nodes;  // topological order
  std::vector<Step> steps;
  std::vector<std::size_t> inputs, outputs;  // indices into steps
  std::vector<KerasTensor<T>> input_tensors, output_tensors;
  /// Each node's index among its layer's calls in this model (Keras's node index in configs
  /// and summaries: 0, then 1 for a shared layer's second call, ...).
  std::map<const GraphNode<T>*, int> node_index;

  FunctionalGraph(std::vector<KerasTensor<T>> ins, std::vector<KerasTensor<T>> outs,
                  const std::string& model)
      : input_tensors(std::move(ins)), output_tensors(std::move(outs)) {
    check<ValueError>(!input_tensors.empty(), model, ": a functional model needs inputs");
    check<ValueError>(!output_tensors.empty(), model, ": a functional model needs outputs");
    std::map<const GraphNode<T>*, std::size_t> index;
    for (std::size_t i = 0; i < input_tensors.size(); ++i) {
      const GraphNode<T>* n = &input_tensors[i].node();
      check<ValueError>(n->inputs.empty(), model, ": input ", i, " (", input_tensors[i].label(),
                        ", a ", n->layer->type(),
                        " output) is not an Input; a model's inputs come from Input<T>()");
      check<ValueError>(!index.contains(n), model, ": input ", i, " (", input_tensors[i].label(),
                        ") is given twice");
      index[n] = nodes.size();
      nodes.push_back(n);
    }
    for (const KerasTensor<T>& out : output_tensors) visit(&out.node(), index, model);
    for (const GraphNode<T>* n : nodes) {
      Step step{n->layer.get(), {}, 0};
      for (const KerasTensor<T>& x : n->inputs) {
        step.inputs.push_back(index.at(&x.node()));
        ++steps[step.inputs.back()].consumers;
      }
      steps.push_back(std::move(step));
    }
    std::map<const Layer<T>*, std::vector<const GraphNode<T>*>> calls;
    for (const GraphNode<T>* n : nodes) calls[n->layer.get()].push_back(n);
    for (auto& [layer, list] : calls) {
      std::sort(list.begin(), list.end(),
                [](const auto* a, const auto* b) { return a->call_index < b->call_index; });
      for (std::size_t k = 0; k < list.size(); ++k) node_index[list[k]] = static_cast<int>(k);
    }
    for (std::size_t i = 0; i < input_tensors.size(); ++i) inputs.push_back(i);
    for (const KerasTensor<T>& out : output_tensors) {
      outputs.push_back(index.at(&out.node()));
      ++steps[outputs.back()].consumers;
    }
  }

  /// The outputs for inputs xs (one per model input); when `pre_activation`, the last step of
  /// the single output is run without its final activation (see Model::call_pre_activation).
  std::vector<Variable<T>> run(const std::vector<Variable<T>>& xs, const std::string& model,
                               bool pre_activation = false) const {
    check<ValueError>(xs.size() == inputs.size(), model, ": expected ", inputs.size(),
                      " inputs, got ", xs.size());
    std::vector<Variable<T>> values(steps.size());
    for (std::size_t i = 0; i < inputs.size(); ++i)
      values[inputs[i]] = (*steps[inputs[i]].layer)(xs[i]);
    for (std::size_t s = inputs.size(); s < steps.size(); ++s) {
      const Step& step = steps[s];
      const bool last = pre_activation && s == outputs.front();
      if (step.inputs.size() == 1) {
        const Variable<T>& x = values[step.inputs.front()];
        values[s] = last ? step.layer->call_pre_activation(x) : (*step.layer)(x);
      } else {
        std::vector<Variable<T>> args;
        for (std::size_t i : step.inputs) args.push_back(values[i]);
        values[s] = step.layer->call_list(args);
      }
    }
    std::vector<Variable<T>> out;
    for (std::size_t o : outputs) out.push_back(values[o]);
    return out;
  }

  /// `dense_1[0][0]`: how configs and summaries name a node's output in this model.
  std::string label(const GraphNode<T>* n) const {
    return n->layer->name() + "[" + std::to_string(node_index.at(n)) + "][0]";
  }
  /// The layer's name, node index and tensor index of a tensor, as Keras's configs list them.
  Json ref(const GraphNode<T>* n) const {
    return Json::array({n->layer->name(), node_index.at(n), 0});
  }

  /// The final activation the single output's layer applies, when the model can run it apart
  /// (one output, made by a one-input layer, used by nothing else); "linear" otherwise.
  std::string output_activation() const {
    if (outputs.size() != 1) return "linear";
    const Step& step = steps[outputs.front()];
    if (step.inputs.size() != 1 || step.consumers != 1) return "linear";
    return step.layer->output_activation();
  }

 private:
  // Depth first from the outputs; the nodes are immutable and made after their inputs, so the
  // graph has no cycles.
  void visit(const GraphNode<T>* n, std::map<const GraphNode<T>*, std::size_t>& index,
             const std::string& model) {
    if (index.contains(n)) return;
    check<ValueError>(!n->inputs.empty(), model, ": the outputs depend on ", n->layer->label(),
                      " (an Input of shape ", batch_shape_str(n->shape),
                      ") that is not among the model's inputs (graph disconnected)");
    for (const KerasTensor<T>& x : n->inputs) visit(&x.node(), index, model);
    index[n] = nodes.size();
    nodes.push_back(n);
  }
};

}  // namespace detail

// --- the functional model's members of Model<T> ------------------------------------------------

template <class T>
Model<T>::Model(KerasTensors<T> inputs, KerasTensors<T> outputs, FunctionalOptions options)
    : name_(std::move(options.name)) {
  auto graph = std::make_shared<detail::FunctionalGraph<T>>(std::move(inputs.list),
                                                            std::move(outputs.list), name_);
  std::set<const Layer<T>*> added;
  for (const detail::GraphNode<T>* n : graph->nodes)
    if (added.insert(n->layer.get()).second) add_layer(n->layer);
  build_input_shape_ = graph->input_tensors.front().shape();
  graph_ = std::move(graph);
}
template <class T>
Model<T>::Model(KerasTensors<T> inputs, KerasTensors<T> outputs)
    : Model(std::move(inputs), std::move(outputs), FunctionalOptions{}) {}

template <class T>
std::size_t Model<T>::input_count() const {
  return graph_ ? graph_->inputs.size() : 1;
}
template <class T>
std::size_t Model<T>::output_count() const {
  return graph_ ? graph_->outputs.size() : 1;
}
template <class T>
const std::vector<KerasTensor<T>>& Model<T>::graph_outputs() const {
  check<ValueError>(graph_ != nullptr, name_, ": not a functional model");
  return graph_->output_tensors;
}
template <class T>
const Shape& Model<T>::graph_input_shape(std::size_t i) const {
  check<ValueError>(graph_ != nullptr, name_, ": not a functional model");
  return graph_->input_tensors.at(i).shape();
}

/// The inputs of a model of several arrive side by side ([batch, sum of sizes], as fit batches
/// them); they are split into one array per input, which receive no gradient.
template <class T>
std::vector<Variable<T>> Model<T>::run_graph(const Variable<T>& x) const {
  check<ValueError>(graph_ != nullptr, name_,
                    ": this model class does not define call(); override it, or make the model "
                    "with the functional API (Model<T>(inputs, outputs))");
  if (graph_->inputs.size() == 1) return graph_->run({x}, name_);
  std::vector<Shape> shapes;
  index_t width = 0;
  for (const KerasTensor<T>& t : graph_->input_tensors) {
    shapes.push_back(t.shape());
    width += t.shape().numel();
  }
  check<ShapeError>(x.rank() == 2 && x.dim(1) == width, name_, ": the model has ", shapes.size(),
                    " inputs; call(x) takes them side by side as [batch, ", width, "], got ",
                    x.shape(), " (fit, evaluate and predict take a list {x1, x2})");
  std::vector<Variable<T>> xs;
  for (Tensor<T>& part : detail::unpack_columns(x.value(), shapes))
    xs.emplace_back(std::move(part));
  return graph_->run(xs, name_);
}

/// A functional model's output; the outputs of a model of several side by side, flattened
/// ([batch, sum of sizes]; predict_outputs splits them).
template <class T>
Variable<T> Model<T>::call(const Variable<T>& x) {
  std::vector<Variable<T>> outs = run_graph(x);
  if (outs.size() == 1) return outs.front();
  for (Variable<T>& o : outs) o = flatten(o);
  return concat(outs, 1);
}

template <class T>
std::pair<Variable<T>, std::string> Model<T>::call_pre_activation(const Variable<T>& x) {
  if (!graph_ || graph_->inputs.size() != 1 || graph_->output_activation() == "linear")
    return {call(x), "linear"};
  return {graph_->run({x}, name_, true).front(), graph_->output_activation()};
}

template <class T>
void Model<T>::build_functional(const Shape& input_shape) {
  const Shape& first = graph_->input_tensors.front().shape();
  check<ShapeError>(input_shape == first, name_, ": the functional model's first input is ",
                    batch_shape_str(first), ", it cannot be built for ",
                    batch_shape_str(input_shape));
}

/// Keras's summary of a functional model: the layers with a "Connected to" column.
template <class T>
void Model<T>::print_functional_summary(std::ostream& out) const {
  constexpr std::size_t name_w = 29, shape_w = 29, param_w = 10, width = 98;
  const auto pad = [](std::string s, std::size_t w) {
    s += std::string(s.size() < w ? w - s.size() : 1, ' ');
    return s;
  };
  const detail::FunctionalGraph<T>& g = *graph_;
  out << "Model: \"" << name_ << "\"\n" << std::string(width, '_') << '\n';
  out << pad(" Layer (type)", name_w) << pad("Output Shape", shape_w) << pad("Param #", param_w)
      << "Connected to\n";
  out << std::string(width, '=') << '\n';
  index_t total = 0, trainable = 0;
  std::vector<const Layer<T>*> order;
  std::map<const Layer<T>*, std::vector<std::string>> connections;
  std::map<const Layer<T>*, std::set<std::string>> shapes;
  for (const detail::GraphNode<T>* n : g.nodes) {
    const Layer<T>* l = n->layer.get();
    if (!connections.contains(l)) order.push_back(l);
    auto& c = connections[l];
    for (const KerasTensor<T>& x : n->inputs) c.push_back("'" + g.label(&x.node()) + "'");
    std::string shape = "(None";
    for (index_t d : n->shape) shape += ", " + std::to_string(d);
    shapes[l].insert(shape + ")");
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Layer<T>& l = *order[i];
    const bool input = l.type() == "InputLayer";
    std::string shape = shapes[&l].size() == 1 ? *shapes[&l].begin() : "multiple";
    if (input) shape = "[" + shape + "]";
    const auto& c = connections[&l];
    out << pad(" " + l.name() + " (" + l.type() + ")", name_w) << pad(shape, shape_w)
        << pad(with_thousands(l.count_params()), param_w);
    if (c.empty()) out << "[]\n";
    for (std::size_t k = 0; k < c.size(); ++k) {
      if (k > 0) out << std::string(name_w + shape_w + param_w + 1, ' ');
      out << (k == 0 ? "[" : "") << c[k] << (k + 1 == c.size() ? "]" : ",") << '\n';
    }
    if (i + 1 < order.size()) out << '\n';
    total += l.count_params();
    trainable += l.count_trainable_params();
  }
  print_summary_totals(out, width, total, trainable);
}

}  // namespace lamina

// The functional model's config, written and read (load_model's "Functional").
#include "lamina/models/functional_config.hpp"
