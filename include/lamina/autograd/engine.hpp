#pragma once

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lamina/autograd/node.hpp"
#include "lamina/detail/thread_slot.hpp"

namespace lamina::autograd {

/// Told during the backward passes on one thread when each leaf's gradient is complete: the
/// moment PyTorch's DistributedDataParallel launches a bucket's allreduce, before the rest of the
/// backward pass has run (lamina/distributed/ uses it that way). Install one with
/// GradientHookScope.
template <class T>
class GradientHook {
 public:
  virtual ~GradientHook() = default;
  /// Every op of this backward pass that uses `leaf` has sent its gradient back: the leaf's
  /// accumulated gradient is final for this pass. Called once per pass, on the thread running
  /// backward, for each leaf that requires grad and is an input of an op of the pass.
  virtual void gradient_ready(const Node<T>& leaf) = 0;
};

namespace detail {
/// The hook of this thread's backward passes, or null.
template <class T>
GradientHook<T>*& gradient_hook() {
  return lamina::detail::thread_slot<GradientHook<T>>();
}
}  // namespace detail

/// Installs `hook` for the backward passes on this thread while it lives (the previous hook
/// comes back afterwards).
template <class T>
using GradientHookScope = lamina::detail::ThreadSlotScope<GradientHook<T>>;

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
/// `retain_graph`, every rule and input link on the way is released afterwards. A GradientHook
/// installed on this thread hears of each leaf as soon as its last user has run.
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
  GradientHook<T>* const hook = detail::gradient_hook<T>();
  // With a hook: the leaves whose gradient is complete once order[i] has run (the sweep runs
  // from the end of `order`, so a leaf is done after its user of lowest index).
  std::vector<std::vector<const Node<T>*>> done_after;
  if (hook != nullptr) {
    std::unordered_map<const Node<T>*, std::size_t> last_user;
    for (std::size_t i = order.size(); i-- > 0;)
      for (const auto& in : order[i]->inputs)
        if (in->is_leaf() && in->requires_grad) last_user[in.get()] = i;
    done_after.resize(order.size());
    // In the order of `order`, so that every process of a distributed fit hears the same order.
    for (const auto& n : order)
      if (const auto it = last_user.find(n.get()); it != last_user.end())
        done_after[it->second].push_back(n.get());
  }
  for (std::size_t i = order.size(); i-- > 0;) {
    Node<T>* n = order[i].get();
    if (n->is_leaf()) continue;
    if (n->has_grad) {
      Gradients<T> grads(*n);
      n->backward(n->grad, grads);
    }
    if (hook != nullptr)
      for (const Node<T>* leaf : done_after[i]) hook->gradient_ready(*leaf);
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
