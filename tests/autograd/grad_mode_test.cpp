#include "lamina/autograd/grad_mode.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

TEST(GradMode, EnabledByDefault) { EXPECT_TRUE(is_grad_enabled()); }

TEST(GradMode, GuardsNestAndRestore) {
  {
    NoGradGuard outer;
    EXPECT_FALSE(is_grad_enabled());
    {
      NoGradGuard inner;
      EXPECT_FALSE(is_grad_enabled());
    }
    EXPECT_FALSE(is_grad_enabled());  // the inner guard restores "disabled", not "enabled"
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(GradMode, RestoredWhenAnExceptionUnwinds) {
  try {
    NoGradGuard guard;
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(GradMode, NoGraphIsRecordedUnderTheGuard) {
  Variable<double> x(Tensor<double>({2}, {1, 2}), true);
  Variable<double> y;
  {
    NoGradGuard guard;
    y = x * x + 1.0;
  }
  EXPECT_EQ(y.value().to_vector(), (std::vector<double>{2, 5}));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_TRUE(y.node()->inputs.empty());
  EXPECT_EQ(x.node().use_count(), 1);
  expect_error<Error>([&] { y.backward(Tensor<double>::ones({2})); }, {"backward", "NoGradGuard"});
  // Recording resumes once the guard is gone.
  Variable<double> z = x * x;
  EXPECT_TRUE(z.requires_grad());
  EXPECT_EQ(std::string(z.op()), "mul");
}

TEST(GradMode, IsPerThread) {
  NoGradGuard guard;
  bool other_thread_enabled = false;
  std::thread t([&] { other_thread_enabled = is_grad_enabled(); });
  t.join();
  EXPECT_TRUE(other_thread_enabled);
  EXPECT_FALSE(is_grad_enabled());
}

}  // namespace
}  // namespace lamina
