#pragma once
// How a rank waits for messages without burning a core: poll flat out for a short window (so
// back-to-back tasks pay no sleep), then sleep for growing intervals. A blocking MPI wait spins
// at 100% CPU, and a pure sleep loop costs ~0.1-0.2 ms per message on these VMs.
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
  std::int64_t sleep_ns_ = kFirstSleepNs;
};

}  // namespace mpiply::detail
