#pragma once

namespace lamina {

namespace detail {
inline bool& grad_mode_enabled() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// True unless a NoGradGuard is alive on this thread.
inline bool is_grad_enabled() { return detail::grad_mode_enabled(); }

/// While alive, ops on this thread record no graph (for inference and optimizer updates),
/// as `torch.no_grad()`. Guards nest.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(detail::grad_mode_enabled()) { detail::grad_mode_enabled() = false; }
  ~NoGradGuard() { detail::grad_mode_enabled() = previous_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace lamina
