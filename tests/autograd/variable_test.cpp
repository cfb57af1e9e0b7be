#include "lamina/autograd/variable.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_tensor_near;

template <class T>
class VariableTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(VariableTyped, Scalars);

TYPED_TEST(VariableTyped, WrapsATensorAsALeaf) {
  using T = TypeParam;
  Tensor<T> t({2, 3}, {1, 2, 3, 4, 5, 6});
  Variable<T> v(t);
  EXPECT_TRUE(v.value().shares_storage_with(t));
  EXPECT_TRUE(v.is_leaf());
  EXPECT_EQ(std::string(v.op()), "leaf");
  EXPECT_FALSE(v.requires_grad());
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  EXPECT_EQ(v.rank(), 2);
  EXPECT_EQ(v.dim(-1), 3);
  EXPECT_EQ(v.size(), 6);
  EXPECT_TRUE(Variable<T>(t, true).requires_grad());
  EXPECT_EQ(Variable<T>(Tensor<T>::scalar(T(2.5))).item(), T(2.5));
  expect_error<ShapeError>([&] { v.item(); }, {"item", "[2, 3]"});
  const Variable<T> empty;
  EXPECT_EQ(empty.shape(), (Shape{0}));
  EXPECT_FALSE(empty.requires_grad());
}

TYPED_TEST(VariableTyped, Factories) {
  using T = TypeParam;
  const Variable<T> z = Variable<T>::zeros({2, 2}, true);
  expect_tensor_near(z.value(), {2, 2}, {0, 0, 0, 0}, 0);
  EXPECT_TRUE(z.requires_grad());
  EXPECT_FALSE(Variable<T>::zeros({1}).requires_grad());
  // Seeded: the same seed gives the same values, through either overload.
  const Variable<T> a = Variable<T>::randn({4, 3}, true, 5);
  Generator gen(5);
  const Variable<T> b = Variable<T>::randn({4, 3}, false, gen);
  EXPECT_EQ(a.value().to_vector(), b.value().to_vector());
  EXPECT_NE(a.value().to_vector(), Variable<T>::randn({4, 3}, true, 6).value().to_vector());
  EXPECT_TRUE(a.requires_grad());
  EXPECT_FALSE(b.requires_grad());
}

TYPED_TEST(VariableTyped, CopiesShareTheNode) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2}, {1, 2}), true);
  Variable<T> b = a;
  EXPECT_EQ(a.node(), b.node());
  (b * b).backward(Tensor<T>::ones({2}));
  expect_tensor_near(a.grad(), {2}, {2, 4}, 0);
  // value() is writable in place (as an optimizer update is) and seen through every copy.
  a.value().data()[0] = T(7);
  EXPECT_EQ(b.value().at({0}), T(7));
}

TYPED_TEST(VariableTyped, GradIsZerosBeforeBackward) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2, 1}), true);
  EXPECT_FALSE(x.has_grad());
  expect_tensor_near(x.grad(), {2, 1}, {0, 0}, 0);
  x.zero_grad();  // no gradient yet: nothing to do
  EXPECT_FALSE(x.has_grad());
}

TYPED_TEST(VariableTyped, ZeroGradThenBackwardReplacesTheGradient) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({3}, {1, 2, 3}), true);
  (x * x).backward(Tensor<T>::ones({3}));
  const Tensor<T> before = x.grad();
  x.zero_grad();
  EXPECT_TRUE(x.has_grad());
  // The next gradient replaces the zeroed one rather than being added to stale values.
  (x * T(2)).backward(Tensor<T>::ones({3}));
  expect_tensor_near(x.grad(), {3}, {2, 2, 2}, 0);
  (x * T(3)).backward(Tensor<T>::ones({3}));
  expect_tensor_near(x.grad(), {3}, {5, 5, 5}, 0);
  // A tensor read before zero_grad() keeps its values.
  expect_tensor_near(before, {3}, {2, 4, 6}, 0);
}

TYPED_TEST(VariableTyped, ZeroGradReadsAsZerosUntilTheNextBackward) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 2}), true);
  (x * x).backward(Tensor<T>::ones({2}));
  const Tensor<T> before = x.grad();
  x.zero_grad();
  expect_tensor_near(x.grad(), {2}, {0, 0}, 0);
  expect_tensor_near(before, {2}, {2, 4}, 0);  // reading the zeros left it alone
  x.zero_grad();
  (x * T(4)).backward(Tensor<T>::ones({2}));
  expect_tensor_near(x.grad(), {2}, {4, 4}, 0);
}

TYPED_TEST(VariableTyped, ZeroGradOfARootLeafThenBackward) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 2}), true);
  x.backward(Tensor<T>({2}, {3, 4}));
  x.zero_grad();
  x.backward(Tensor<T>({2}, {5, 6}));
  expect_tensor_near(x.grad(), {2}, {5, 6}, 0);
}

TYPED_TEST(VariableTyped, SetRequiresGradOnlyOnLeaves) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 2}));
  x.set_requires_grad(true);
  EXPECT_TRUE(x.requires_grad());
  Variable<T> y = x * x;
  expect_error<Error>([&] { y.set_requires_grad(false); },
                      {"set_requires_grad", "'mul'", "detach"});
  EXPECT_FALSE(x.set_requires_grad(false).requires_grad());
  EXPECT_FALSE((x * x).requires_grad());
}

TYPED_TEST(VariableTyped, DetachCutsTheGraphButSharesTheValue) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2}, {1, 2}), true);
  Variable<T> y = x * T(3);
  Variable<T> d = y.detach();
  EXPECT_TRUE(d.is_leaf());
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.value().shares_storage_with(y.value()));
  EXPECT_NE(d.node(), y.node());
  // Gradient flows only through the attached path: d(y * d)/dx = 3 * d = 9x.
  (y * d).backward(Tensor<T>::ones({2}));
  expect_tensor_near(x.grad(), {2}, {9, 18}, 0);
  EXPECT_FALSE(d.has_grad());
  // A detached leaf can start a graph of its own.
  d.set_requires_grad(true);
  (d * d).backward(Tensor<T>::ones({2}));
  expect_tensor_near(d.grad(), {2}, {6, 12}, 0);
}

TYPED_TEST(VariableTyped, FromOpRecordsOnlyWhenNeeded) {
  using T = TypeParam;
  int calls = 0;
  const auto rule = [&calls](const Tensor<T>& g, autograd::Gradients<T>& grads) {
    ++calls;
    grads.add(0, g.clone());
    grads.add(1, g.clone());  // not wanted: the engine ignores it
  };
  Variable<T> a(Tensor<T>::scalar(1), true), b(Tensor<T>::scalar(2));
  Variable<T> recorded = Variable<T>::from_op("custom", Tensor<T>::scalar(3), {a, b}, rule);
  EXPECT_EQ(std::string(recorded.op()), "custom");
  EXPECT_EQ(recorded.node()->inputs.size(), 2u);
  recorded.backward();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(a.grad().item(), T(1));
  EXPECT_FALSE(b.has_grad());
  Variable<T> plain = Variable<T>::from_op("custom", Tensor<T>::scalar(3), {b, b}, rule);
  EXPECT_TRUE(plain.is_leaf());
  EXPECT_FALSE(plain.requires_grad());
  EXPECT_EQ(plain.value().item(), T(3));
}

// set_grad replaces a leaf's gradient (as backward after zero_grad would), keeps a copy of a
// shared tensor, and refuses a wrong shape and a computed variable.
TEST(VariableSetGrad, ReplacesTheGradientOfALeaf) {
  Variable<double> w(Tensor<double>({2}, {1, 2}), true);
  (w * w).backward(Tensor<double>({2}, {1, 1}));
  const Tensor<double> g({2}, {5, -6});
  w.set_grad(g);
  expect_tensor_near(w.grad(), {2}, {5, -6}, 0);
  EXPECT_NE(w.grad().data(), g.data());           // g is shared with the caller: copied
  (w * w).backward(Tensor<double>({2}, {1, 1}));  // accumulates onto it
  expect_tensor_near(w.grad(), {2}, {7, -2}, 0);
  expect_error<ShapeError>([&] { w.set_grad(Tensor<double>({3})); }, {"set_grad", "[3]", "[2]"});
  Variable<double> y = w * w;
  expect_error<Error>([&] { y.set_grad(Tensor<double>({2})); }, {"set_grad", "only a leaf"});
}

}  // namespace
}  // namespace lamina
