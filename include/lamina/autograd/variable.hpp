#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "lamina/autograd/engine.hpp"
#include "lamina/autograd/grad_mode.hpp"
#include "lamina/autograd/node.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// Options of Variable::backward.
struct BackwardOptions {
  /// Keep the recorded graph so that backward can run through it again.
  bool retain_graph = false;
};

/// A tensor that takes part in reverse-mode differentiation: it holds a value and, once
/// backward() has run, a gradient. Ops on Variables record a graph when any input
/// requires grad (and no NoGradGuard is alive). Copies share the same node.
template <class T>
class Variable {
 public:
  using Node = autograd::Node<T>;

  /// An empty variable (shape [0]) that requires no grad.
  Variable() : Variable(Tensor<T>()) {}
  /// Wraps `value` (sharing its storage) as a leaf.
  Variable(Tensor<T> value, bool requires_grad = false) : node_(std::make_shared<Node>()) {
    node_->value = std::move(value);
    node_->requires_grad = requires_grad;
  }

  /// A leaf of standard-normal values drawn from `gen`.
  static Variable randn(Shape shape, bool requires_grad, Generator& gen) {
    return Variable(Tensor<T>::randn(std::move(shape), gen), requires_grad);
  }
  /// A leaf of standard-normal values drawn from a generator seeded with `seed`.
  static Variable randn(Shape shape, bool requires_grad = false, std::uint64_t seed = 0) {
    Generator gen(seed);
    return randn(std::move(shape), requires_grad, gen);
  }
  static Variable zeros(Shape shape, bool requires_grad = false) {
    return Variable(Tensor<T>::zeros(std::move(shape)), requires_grad);
  }

  /// Builds the result of an op: records `inputs` and the op's backward `rule` when any input
  /// requires grad and grad mode is on; otherwise a plain value. Used by the ops in ops/.
  static Variable from_op(const char* op, Tensor<T> value, std::vector<Variable> inputs,
                          typename Node::BackwardFn rule) {
    Variable out(std::move(value));
    if (!is_grad_enabled()) return out;
    bool any = false;
    for (const Variable& in : inputs) any = any || in.requires_grad();
    if (!any) return out;
    out.node_->requires_grad = true;
    out.node_->op = op;
    out.node_->backward = std::move(rule);
    out.node_->inputs.reserve(inputs.size());
    for (const Variable& in : inputs) out.node_->inputs.push_back(in.node_);
    return out;
  }

  const Tensor<T>& value() const { return node_->value; }
  /// The value, writable in place (optimizers update parameters through it).
  Tensor<T>& value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  int rank() const { return node_->value.rank(); }
  index_t dim(int axis) const { return node_->value.dim(axis); }
  index_t size() const { return node_->value.size(); }
  T item() const { return node_->value.item(); }

  bool requires_grad() const { return node_->requires_grad; }
  /// Makes a leaf require (or stop requiring) a gradient.
  Variable& set_requires_grad(bool on) {
    check(is_leaf(), "set_requires_grad: only leaves can change requires_grad; '", node_->op,
          "' output is computed (use detach())");
    node_->requires_grad = on;
    return *this;
  }
  /// True for variables made from a tensor rather than by an op.
  bool is_leaf() const { return node_->is_leaf(); }
  /// The name of the op that made this variable, or "leaf".
  const char* op() const { return node_->op; }

  /// Whether a gradient has been accumulated since construction.
  bool has_grad() const { return node_->has_grad; }
  /// d(loss)/d(this), accumulated over backward() calls; zeros before the first one.
  Tensor<T> grad() const {
    if (!node_->has_grad) return Tensor<T>::zeros(node_->value.shape());
    if (node_->grad_zeroed) {
      // A fresh buffer: tensors read before zero_grad() share the old one and keep its values.
      node_->grad = Tensor<T>::zeros(node_->value.shape());
      node_->grad_zeroed = false;
    }
    return node_->grad;
  }
  /// Sets the accumulated gradient to zero. The next gradient backward() brings replaces it
  /// instead of being added to it (a tensor grad() returned earlier keeps its old values, as
  /// PyTorch's zero_grad(set_to_none=True)); grad() before then returns zeros.
  void zero_grad() {
    if (node_->has_grad) node_->grad_zeroed = true;
  }

  /// Replaces the accumulated gradient of this leaf by `g` (same shape), as if backward() had
  /// just brought it after zero_grad(): what a gradient reduced across processes is written
  /// back with. The variable keeps `g`'s storage when it is the only owner, else a copy.
  void set_grad(Tensor<T> g) {
    check(is_leaf(), "set_grad: only a leaf's gradient can be set; '", node_->op,
          "' output is computed");
    check<ShapeError>(g.shape() == shape(), "set_grad: gradient of shape ", g.shape(),
                      " for a variable of shape ", shape());
    node_->grad = g.owns_storage() ? std::move(g) : g.clone();
    node_->has_grad = true;
    node_->grad_zeroed = false;
  }

  /// Back-propagates from this scalar (any one-element tensor) with d(loss)/d(this) = 1.
  void backward(BackwardOptions options = {}) {
    check(size() == 1, "backward: output of '", node_->op, "' has shape ", shape(),
          "; backward() without an upstream gradient needs a one-element output (pass the "
          "gradient of the loss with respect to this tensor)");
    autograd::run_backward(node_, Tensor<T>::ones(shape()), options.retain_graph);
  }
  /// Back-propagates with the given d(loss)/d(this) (same shape as this tensor).
  void backward(const Tensor<T>& upstream, BackwardOptions options = {}) {
    autograd::run_backward(node_, upstream, options.retain_graph);
  }

  /// A leaf sharing this value, cut from the graph, requiring no grad.
  Variable detach() const { return Variable(node_->value); }

  /// The underlying graph node (for the engine and tests).
  const std::shared_ptr<Node>& node() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
};

}  // namespace lamina
