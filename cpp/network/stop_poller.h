// Interrupting a long native loop (Ctrl-C from Python) between batches and
// between the layers of a batch.
#pragma once

#include <chrono>
#include <functional>

namespace vgp {

// Asks a caller-supplied `should_stop` (Python's Ctrl-C check) whether a long
// native loop should end, at most once per kInterval: the loops call it
// between batches and between the layers of a batch, so one huge batch is
// interruptible too. The latency is bounded by the slowest single layer's
// forward or backward on one batch.
class StopPoller {
 public:
  static constexpr std::chrono::milliseconds kInterval{50};
  explicit StopPoller(const std::function<bool()>& f) : f_(f), last_(clock::now()) {}
  bool operator()() {
    if (!f_) return false;
    const auto now = clock::now();
    if (now - last_ < kInterval) return false;
    last_ = now;
    return f_();
  }

 private:
  using clock = std::chrono::steady_clock;
  const std::function<bool()>& f_;
  clock::time_point last_;
};

// Thrown between two layers when the poller says stop; the loops of Network
// catch it before any update of the interrupted batch, so nothing leaks out.
struct Interrupted {};

}  // namespace vgp
