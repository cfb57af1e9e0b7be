#pragma once

#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lamina/autograd/node.hpp"

namespace lamina::autograd {

/// Nodes reachable from `root` through inputs that require grad, in topological order
/// (every node after all of its inputs). Iterative, so deep chains do not overflow the stack.
/// Holding shared pointers keeps every node alive while backward releases the graph's links.
template <class T>
std::vector<std::shared_ptr<Node<T>>> topological_order(const std::shared_ptr<Node<T>>& root) {
  std::vector<std::shared_ptr<Node<T>>> order;
  std::unordered_set<const Node<T>*> seen;
  std::vector<std::pair<std::shared_ptr<Node<T>>, std::size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      std::shared_ptr<Node<T>> in = node->inputs[next++];
      if (in->requires_grad && seen.insert(in.get()).second) stack.emplace_back(std::move(in), 0);
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  return order;
}

/// Reverse-mode sweep from `root`, seeded with `upstream` = d(loss)/d(root). Leaves accumulate
/// their gradients across calls; intermediate gradients are dropped once used. Unless
/// `retain_graph`, every rule and input link on the way is released afterwards.
template <class T>
void run_backward(const std::shared_ptr<Node<T>>& root, const Tensor<T>& upstream,
                  bool retain_graph) {
  check(root->requires_grad,
        "backward: the tensor does not require grad (no input of the graph that made it has "
        "requires_grad = true, or it was computed under NoGradGuard)");
  check<ShapeError>(upstream.shape() == root->value.shape(),
                    "backward: upstream gradient of shape ", upstream.shape(),
                    " does not match the output's shape ", root->value.shape());
  const std::vector<std::shared_ptr<Node<T>>> order = topological_order(root);
  for (const auto& n : order) {
    check(!n->freed, "backward: the graph through '", n->op, "' (output ", n->value.shape(),
          ") was already freed by an earlier backward(); pass retain_graph = true to the first "
          "call to backward through it twice");
  }
  if (root->has_grad && !root->grad_zeroed) {
    T* dst = root->grad.data();
    for (index_t k = 0; k < upstream.size(); ++k) dst[k] += upstream.data()[k];
  } else {
    root->grad = upstream.clone();
    root->has_grad = true;
    root->grad_zeroed = false;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* n = it->get();
    if (n->is_leaf()) continue;
    if (n->has_grad) {
      Gradients<T> grads(*n);
      n->backward(n->grad, grads);
    }
    // An intermediate gradient is only needed while its own rule runs.
    n->grad = Tensor<T>();
    n->has_grad = false;
    n->grad_zeroed = false;
    if (!retain_graph) {
      n->backward = nullptr;
      n->inputs.clear();
      n->freed = true;
    }
  }
}

}  // namespace lamina::autograd
