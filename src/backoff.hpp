#pragma once
// How a rank waits for messages without burning a core: poll flat out for a short window (so
// back-to-back tasks pay no sleep), then sleep for growing intervals. A blocking MPI wait spins
// at 100% CPU, and a pure sleep loop costs ~0.1-0.2 ms per message on these VMs.
//
// The windows are chosen so the two ends cannot fall out of step: an engine keeps spinning for
// longer than the client's longest sleep, so when a sleeping client finally reads a result and
// sends the next task, the engine is still awake. (With equal short windows both sides ended up
// sleeping while the other worked, and an apply round trip took ~0.7 ms instead of ~2 us.)
#include <algorithm>
#include <cstdint>
#include <time.h>

#include "clock.hpp"

namespace mpiply::detail {

class Backoff {
 public:
  Backoff(std::int64_t spin_ns, std::int64_t max_sleep_ns) : spin_ns_(spin_ns), max_ns_(max_sleep_ns) {}
  void reset() noexcept {
    idle_since_ = 0;
    sleep_ns_ = kFirstSleepNs;
  }
  // True while still inside the spin window (the caller polls again at once).
  bool spinning() noexcept {
    // Reading the clock costs as much as a failed probe; look at it every 16th poll.
    if ((++polls_ & 15) != 0 && idle_since_ != 0) return true;
    std::int64_t t = now_ns();
    if (idle_since_ == 0) idle_since_ = t;
    return t - idle_since_ < spin_ns_;
  }
  // Sleeps for the current interval and doubles it, up to the maximum.
  void sleep() noexcept {
    timespec ts{0, static_cast<long>(sleep_ns_)};
    nanosleep(&ts, nullptr);
    sleep_ns_ = std::min(sleep_ns_ * 2, max_ns_);
  }

 private:
  static constexpr std::int64_t kFirstSleepNs = 20'000;
  std::int64_t spin_ns_, max_ns_;
  std::int64_t idle_since_ = 0;
  unsigned polls_ = 0;
  std::int64_t sleep_ns_ = kFirstSleepNs;
};

// Engines: spin 2 ms after each task (longer than kClientMaxSleep), then sleep up to 1 ms.
inline constexpr std::int64_t kEngineSpinNs = 2'000'000;
inline constexpr std::int64_t kEngineMaxSleepNs = 1'000'000;
// The client's thread waiting on a result: spin 250 us, then sleep up to 1 ms.
inline constexpr std::int64_t kClientSpinNs = 250'000;
inline constexpr std::int64_t kClientMaxSleepNs = 1'000'000;
// The progress thread, while the user's thread is elsewhere: only sleeps, up to 0.5 ms, which
// bounds how late `received` can be stamped.
inline constexpr std::int64_t kProgressMaxSleepNs = 500'000;

}  // namespace mpiply::detail
