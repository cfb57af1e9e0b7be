#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lamina/core/broadcast.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::autograd {

template <class T>
class Gradients;

/// One value in the recorded graph: its tensor, its accumulated gradient, the nodes it was
/// computed from and the rule that sends its gradient back to them.
template <class T>
struct Node {
  /// The rule of the op that made this node: given d(loss)/d(output), it hands
  /// d(loss)/d(input i) to `grads.add(i, ...)` for each input that `grads.wants(i)`.
  using BackwardFn = std::function<void(const Tensor<T>& grad_output, Gradients<T>& grads)>;

  Tensor<T> value;
  Tensor<T> grad;
  bool has_grad = false;
  /// Set by zero_grad(): the accumulated gradient is zero, but `grad` still holds the old values
  /// until a new gradient replaces it (or the gradient is read), which saves a pass of zeroing
  /// and one of adding per parameter and step.
  bool grad_zeroed = false;
  bool requires_grad = false;
  /// Set once backward() has released this node's rule and inputs.
  bool freed = false;
  /// The op that made this node, or "leaf".
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn backward;

  bool is_leaf() const { return op == std::string_view("leaf"); }

  /// Releases the inputs iteratively: letting each node's destructor release its inputs in turn
  /// would recurse once per op, and overflow the stack on a long chain (an RNN over many steps).
  ~Node() {
    std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
    while (!pending.empty()) {
      std::shared_ptr<Node> n = std::move(pending.back());
      pending.pop_back();
      // The last owner takes over the inputs, so that `n` dies here without recursing.
      if (n.use_count() == 1) {
        for (std::shared_ptr<Node>& in : n->inputs) pending.push_back(std::move(in));
        n->inputs.clear();
      }
    }
  }
};

/// What a backward rule writes into: the engine reduces each gradient over broadcast axes,
/// checks its shape against the input's and accumulates it (`+=` when an input is used twice).
template <class T>
class Gradients {
 public:
  explicit Gradients(const Node<T>& node) : node_(node) {}

  /// Whether input i needs a gradient (rules skip work for inputs that do not).
  bool wants(std::size_t i) const { return node_.inputs[i]->requires_grad; }

  /// Hands d(loss)/d(input i) to the engine. A gradient that shares its storage with any other
  /// tensor (the output gradient passed straight through, or an lvalue) is copied before it is
  /// kept; pass a fresh temporary to avoid the copy.
  void add(std::size_t i, Tensor<T> g) {
    check(i < node_.inputs.size(), "autograd: the rule of '", node_.op,
          "' adds a gradient for input ", i, ", but the op has ", node_.inputs.size(), " inputs");
    Node<T>& in = *node_.inputs[i];
    if (!in.requires_grad) return;
    if (!(g.shape() == in.value.shape())) {
      check(broadcast_shapes(in.value.shape(), g.shape(), node_.op) == g.shape(),
            "autograd: gradient of shape ", g.shape(), " for input ", i, " of '", node_.op,
            "' cannot be reduced to the input's shape ", in.value.shape());
      g = detail::sum_to_shape(g, in.value.shape());
    }
    check(g.shape() == in.value.shape(), "autograd: gradient of shape ", g.shape(), " for input ",
          i, " of '", node_.op, "' does not match the input's shape ", in.value.shape());
    if (!in.has_grad || in.grad_zeroed) {
      in.grad = g.owns_storage() ? std::move(g) : g.clone();
      in.has_grad = true;
      in.grad_zeroed = false;
    } else {
      T* dst = in.grad.data();
      const T* src = g.data();
      const index_t n = g.size();
      for (index_t k = 0; k < n; ++k) dst[k] += src[k];
    }
  }

 private:
  const Node<T>& node_;
};

}  // namespace lamina::autograd
