#include "lamina/autograd/engine.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <functional>
#include <string>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_tensor_near;

template <class T>
class EngineTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(EngineTyped, Scalars);

/// The sum of all elements, as a test-local op: shape [] from any shape.
template <class T>
Variable<T> sum_all(const Variable<T>& x) {
  T s = 0;
  for (T v : x.value()) s += v;
  return Variable<T>::from_op(
      "sum_all", Tensor<T>::scalar(s), {x},
      [shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d(sum x)/dx_i = 1
        grads.add(0, Tensor<T>::full(shape, g.item()));
      });
}

TYPED_TEST(EngineTyped, BackwardFromScalar) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>::scalar(3), true);
  Variable<T> y = x * x * T(2) + x;  // dy/dx = 4x + 1
  y.backward();
  EXPECT_EQ(x.grad().shape(), Shape{});
  EXPECT_EQ(x.grad().item(), T(13));
  // Through a reduction to a scalar.
  Variable<T> v(Tensor<T>({3}, {1, -2, 4}), true);
  sum_all(v * v).backward();  // d/dv = 2v
  expect_tensor_near(v.grad(), {3}, {2, -4, 8}, 0);
}

TYPED_TEST(EngineTyped, BackwardWithUpstreamGradient) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2, 2}, {1, 2, 3, 4}), true);
  Variable<T> b(Tensor<T>({2}, {10, 20}), true);
  Variable<T> y = x * x + b;  // broadcast: b's gradient is summed over rows
  y.backward(Tensor<T>({2, 2}, {1, -1, 0.5, 2}));
  expect_tensor_near(x.grad(), {2, 2}, {2, -4, 3, 16}, 0);
  expect_tensor_near(b.grad(), {2}, {1.5, 1}, 0);
}

TYPED_TEST(EngineTyped, BackwardOnNonScalarNeedsUpstream) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2, 3}), true);
  Variable<T> y = x * x;
  expect_error<Error>([&] { y.backward(); }, {"backward", "'mul'", "[2, 3]"});
  expect_error<ShapeError>(
      [&] {
        y.backward(Tensor<T>({3, 2}));
      },
      {"backward", "[3, 2]", "[2, 3]"});
  expect_error<ShapeError>([&] { y.backward(Tensor<T>({6})); }, {"backward", "[6]", "[2, 3]"});
}

TYPED_TEST(EngineTyped, BackwardTwiceThroughFreedGraphIsAnError) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>::scalar(2), true);
  Variable<T> y = x * x;
  y.backward();
  EXPECT_EQ(x.grad().item(), T(4));
  expect_error<Error>([&] { y.backward(); }, {"backward", "'mul'", "freed", "retain_graph"});
  // An op built on a freed intermediate cannot reach the leaves either.
  Variable<T> z = y + T(1);
  expect_error<Error>([&] { z.backward(); }, {"'mul'", "freed"});
}

TYPED_TEST(EngineTyped, RetainGraphAllowsASecondBackwardThatAccumulates) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>::scalar(2), true);
  Variable<T> y = x * x * x;  // dy/dx = 3x^2 = 12
  y.backward({.retain_graph = true});
  EXPECT_EQ(x.grad().item(), T(12));
  y.backward();
  EXPECT_EQ(x.grad().item(), T(24));
  expect_error<Error>([&] { y.backward(); }, {"'mul'", "freed"});
}

TYPED_TEST(EngineTyped, LeafGradientsAccumulateUntilZeroed) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 3}), true);
  sum_all(x * T(3)).backward();
  sum_all(x * x).backward();
  expect_tensor_near(x.grad(), {2}, {5, 9}, 0);  // 3 + 2x
  x.zero_grad();
  expect_tensor_near(x.grad(), {2}, {0, 0}, 0);
  sum_all(x).backward();
  expect_tensor_near(x.grad(), {2}, {1, 1}, 0);
}

TYPED_TEST(EngineTyped, LeafAsRoot) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 3}), true);
  x.backward(Tensor<T>({2}, {4, 5}));
  x.backward(Tensor<T>({2}, {1, 1}));
  expect_tensor_near(x.grad(), {2}, {5, 6}, 0);
}

TYPED_TEST(EngineTyped, ValueUsedTwice) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({3}, {1, -2, 0.5}), true);
  sum_all(x * x).backward();
  expect_tensor_near(x.grad(), {3}, {2, -4, 1}, 0);
}

TYPED_TEST(EngineTyped, SharedSubexpressionIsBackpropagatedOnce) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, -3}), true);
  Variable<T> y = x * T(2);
  Variable<T> z = y * y + y;  // dz/dx = (2y + 1) * 2 = 8x + 2
  sum_all(z).backward();
  expect_tensor_near(x.grad(), {2}, {10, -22}, 0);
}

/// Records, for each leaf a backward pass reports, its gradient at that moment.
template <class T>
class RecordingHook final : public autograd::GradientHook<T> {
 public:
  void gradient_ready(const autograd::Node<T>& leaf) override {
    heard.emplace_back(&leaf, leaf.grad.clone());
  }
  std::vector<std::pair<const autograd::Node<T>*, Tensor<T>>> heard;
};

// A hook hears of each leaf once, as soon as its last user has run, with its final gradient:
// w2 (used last) before w1, and x (requires no grad) never.
TYPED_TEST(EngineTyped, GradientHookHearsEachLeafOnceItsGradientIsComplete) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 2}));
  Variable<T> w1(Tensor<T>({2}, {3, -1}), true), w2(Tensor<T>({2}, {0.5, 2}), true);
  Variable<T> h = x * w1;
  Variable<T> y = sum_all(h * w2 + h * h);  // w1 feeds two ops through h; w2 one
  RecordingHook<T> hook;
  {
    autograd::GradientHookScope<T> scope(hook);
    y.backward();
  }
  ASSERT_EQ(hook.heard.size(), 2U);
  EXPECT_EQ(hook.heard[0].first, w2.node().get());
  EXPECT_EQ(hook.heard[1].first, w1.node().get());
  // What the hook saw is the final gradient: dy/dw2 = h, dy/dw1 = x (w2 + 2h).
  expect_tensor_near(hook.heard[0].second, {2}, {3, -2}, 0);
  expect_tensor_near(w1.grad(), {2}, {6.5, -4}, 0);
  expect_tensor_near(hook.heard[1].second, {2}, {6.5, -4}, 0);
  // Out of the scope, nobody hears.
  w1.zero_grad();
  sum_all(x * w1).backward();
  EXPECT_EQ(hook.heard.size(), 2U);
}

TYPED_TEST(EngineTyped, NoGradientWithoutRequiresGrad) {
  using T = TypeParam;
  Variable<T> leaf(Tensor<T>::scalar(1));
  expect_error<Error>([&] { leaf.backward(); }, {"backward", "does not require grad"});
  Variable<T> a(Tensor<T>({2}, {1, 2})), b(Tensor<T>({2}, {3, 4}));
  Variable<T> c = a * b;
  EXPECT_FALSE(c.requires_grad());
  EXPECT_TRUE(c.is_leaf());  // nothing recorded
  EXPECT_TRUE(c.node()->inputs.empty());
  expect_error<Error>([&] { c.backward(Tensor<T>::ones({2})); }, {"does not require grad"});
}

TYPED_TEST(EngineTyped, RequiresGradPropagatesFromAnyInput) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2}, {1, 2}), true), b(Tensor<T>({2}, {3, 4}));
  Variable<T> c = a * b;
  EXPECT_TRUE(c.requires_grad());
  EXPECT_FALSE(c.is_leaf());
  EXPECT_EQ(std::string(c.op()), "mul");
  sum_all(c).backward();
  expect_tensor_near(a.grad(), {2}, {3, 4}, 0);
  EXPECT_FALSE(b.has_grad());
  expect_tensor_near(b.grad(), {2}, {0, 0}, 0);
}

TYPED_TEST(EngineTyped, IntermediateGradientsAndGraphAreReleased) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({3}, {1, 2, 3}), true);
  Variable<T> y = x * T(2);
  Variable<T> z = y * y;
  Variable<T> loss = sum_all(z);
  EXPECT_FALSE(x.value().owns_storage());  // captured by mul's rule
  EXPECT_EQ(x.node().use_count(), 2);      // x and y's input list
  loss.backward();
  expect_tensor_near(x.grad(), {3}, {8, 16, 24}, 0);
  for (const Variable<T>* v : {&y, &z, &loss}) {
    EXPECT_FALSE(v->has_grad());
    EXPECT_EQ(v->node()->grad.size(), 0);
    EXPECT_TRUE(v->node()->inputs.empty());
    EXPECT_FALSE(v->node()->backward);
  }
  EXPECT_EQ(x.node().use_count(), 1);
  EXPECT_EQ(y.node().use_count(), 1);
  EXPECT_TRUE(x.value().owns_storage());  // the rules and their captured tensors are gone
  EXPECT_TRUE(x.has_grad());              // leaves keep theirs
}

TYPED_TEST(EngineTyped, RetainGraphKeepsLinksButNotIntermediateGradients) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({3}, {1, 2, 3}), true);
  Variable<T> y = x * T(2);
  Variable<T> loss = sum_all(y * y);
  loss.backward({.retain_graph = true});
  EXPECT_FALSE(y.has_grad());
  EXPECT_FALSE(loss.has_grad());
  EXPECT_EQ(y.node()->inputs.size(), 2u);
  EXPECT_EQ(x.node().use_count(), 2);
}

TEST(Engine, BadRuleGradientShapesAreCaught) {
  using V = Variable<double>;
  V x(Tensor<double>({3, 1}), true);
  const auto op_with_grad = [&](Tensor<double> g) {
    return V::from_op(
        "bad_rule", Tensor<double>::scalar(0), {x},
        [g](const Tensor<double>&, autograd::Gradients<double>& grads) { grads.add(0, g); });
  };
  // [1, 4] broadcasts with [3, 1], but [3, 1] is not a broadcast of it: no valid reduction.
  expect_error<Error>(
      [&] {
        op_with_grad(Tensor<double>({1, 4})).backward();
      },
      {"bad_rule", "[1, 4]", "[3, 1]"});
  expect_error<Error>([&] { op_with_grad(Tensor<double>({3})).backward(); },
                      {"bad_rule", "[3]", "[3, 1]"});
  expect_error<Error>(
      [&] {
        op_with_grad(Tensor<double>({5, 1})).backward();
      },
      {"bad_rule", "[5, 1]", "[3, 1]"});
  // A legitimate broadcast gradient is reduced: [2, 3, 1] -> [3, 1].
  op_with_grad(Tensor<double>::ones({2, 3, 1})).backward();
  expect_tensor_near(x.grad(), {3, 1}, {2, 2, 2}, 0);
  const auto bad_index = V::from_op(
      "bad_index", Tensor<double>::scalar(0), {x},
      [](const Tensor<double>& g, autograd::Gradients<double>& grads) { grads.add(1, g); });
  expect_error<Error>([&] { V(bad_index).backward(); }, {"bad_index", "input 1", "1 inputs"});
}

/// Runs `f` on a thread with a 256 KiB stack, where recursing once per node of a 10000-long
/// graph would overflow. Returns an exception message, or "" when `f` succeeded.
std::string run_on_small_stack(const std::function<void()>& f) {
  struct Job {
    const std::function<void()>* f;
    std::string error;
  } job{&f, ""};
  const auto body = [](void* p) -> void* {
    auto* j = static_cast<Job*>(p);
    try {
      (*j->f)();
    } catch (const std::exception& e) {
      j->error = e.what();
    }
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  EXPECT_EQ(pthread_create(&thread, &attr, body, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  return job.error;
}

constexpr int kDepth = 10000;

template <class T>
Variable<T> chain(const Variable<T>& x) {
  Variable<T> y = x;
  for (int i = 0; i < kDepth; ++i) y = y + x;  // dy/dx = kDepth + 1
  return y;
}

TYPED_TEST(EngineTyped, DeepChainBackwardAndDestructionDoNotRecurse) {
  using T = TypeParam;
  EXPECT_EQ(run_on_small_stack([] {
              Variable<T> x(Tensor<T>::scalar(1), true);
              chain(x).backward();
              if (x.grad().item() != T(kDepth + 1)) throw Error("wrong gradient");
            }),
            "");
  // Graphs that are destroyed while still linked: never run, or run with retain_graph.
  EXPECT_EQ(run_on_small_stack([] {
              Variable<T> x(Tensor<T>::scalar(1), true);
              Variable<T> y = chain(x);
            }),
            "");
  EXPECT_EQ(run_on_small_stack([] {
              Variable<T> x(Tensor<T>::scalar(1), true);
              Variable<T> y = chain(x);
              y.backward({.retain_graph = true});
              y.backward();
              if (x.grad().item() != T(2 * (kDepth + 1))) throw Error("wrong gradient");
            }),
            "");
  // A leaf that outlives the chain survives its destruction.
  Variable<double> x(Tensor<double>::scalar(1), true);
  run_on_small_stack([&] { chain(x); });
  EXPECT_EQ(x.node().use_count(), 1);
  EXPECT_EQ(x.value().item(), 1.0);
}

TEST(Engine, TopologicalOrderPutsInputsFirst) {
  using V = Variable<double>;
  V x(Tensor<double>::scalar(1), true), c(Tensor<double>::scalar(2));
  V y = x * c;
  V z = y * y + x;
  const auto order = autograd::topological_order(z.node());
  const auto position = [&](const V& v) {
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i] == v.node()) return static_cast<int>(i);
    return -1;
  };
  EXPECT_EQ(order.back(), z.node());
  EXPECT_EQ(position(c), -1);  // does not require grad
  EXPECT_LT(position(x), position(y));
  EXPECT_EQ(order.size(), 4u);  // x, y, y*y, z
}

}  // namespace
}  // namespace lamina
