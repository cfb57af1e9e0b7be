#pragma once

namespace lamina::detail {

/// This thread's object of interface I (the GradientHook of its backward passes, the
/// BatchNormStatistics of its batch_norm calls), or null: one slot per thread and type.
template <class I>
I*& thread_slot() {
  thread_local I* current = nullptr;
  return current;
}

/// Installs `object` in this thread's slot for I while it lives; the previous one comes back
/// afterwards.
template <class I>
class ThreadSlotScope {
 public:
  explicit ThreadSlotScope(I& object) : previous_(thread_slot<I>()) { thread_slot<I>() = &object; }
  ~ThreadSlotScope() { thread_slot<I>() = previous_; }
  ThreadSlotScope(const ThreadSlotScope&) = delete;
  ThreadSlotScope& operator=(const ThreadSlotScope&) = delete;

 private:
  I* previous_;
};

}  // namespace lamina::detail
