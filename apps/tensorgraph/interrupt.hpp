#pragma once
// Ctrl-C for long work: while an InterruptGuard lives, SIGINT (and SIGTERM) only set a flag that
// the work polls (training checks it before every step, saves a checkpoint and returns). A second
// Ctrl-C ends the process at once, as usual. The previous handlers are restored on destruction.
#include <csignal>

namespace tensorgraph::cli {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // True once SIGINT or SIGTERM arrived.
  static bool requested();
  // The signal that arrived (0 when none).
  static int signal_number();

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace tensorgraph::cli
