#pragma once
// How a rank waits for messages without burning a core. Three phases, by time since the last
// message: poll flat out for a short window (back-to-back tasks pay no sleep; the core is yielded
// now and then so an oversubscribed peer can run), then short sleeps while work was recent (20 ms), then
// doubling sleeps up to a maximum once the rank is really idle.
//
// Why not simpler: a blocking MPI wait spins at 100% CPU, and a pure sleep loop costs a sleep's
// latency per message. Why the middle phase: with only "spin, then doubling sleeps" the two
// ends of a conversation can fall out of step, each deep in a long sleep while the other works;
// an apply round trip then took a long sleep, not microseconds (seen with equal windows, and
// again on a loaded machine when a spinning rank lost its core). Capping sleeps at a short
// interval while work is recent bounds that worst case to about one short sleep per message.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <sched.h>
#include <time.h>

#include <mpiply/time.hpp>

namespace mpiply::detail {

struct BackoffPolicy {
  std::int64_t spin_ns;        // poll without sleeping this long after the last message
  std::int64_t recent_ns;      // until this long after it, sleep only kShortSleepNs at a time
  std::int64_t max_sleep_ns;   // then double the sleeps up to this
};

class Backoff {
 public:
  // Windows are measured on the steady clock: with the wall clock, a step back made an engine
  // spin at 100% until the clock caught up, and a step forward cut every window short.
  using clock = SteadyClock;

  explicit Backoff(BackoffPolicy p) : p_(p) {}
  void reset() noexcept {
    idle_since_ = 0;
    polls_ = 0;
    sleep_ns_ = kShortSleepNs;
  }
  // True while still inside the spin window (the caller polls again at once). On a crowded
  // node every call gives up the CPU first (set_crowded).
  bool spinning() noexcept {
    ++polls_;
    bool crowded = crowded_.load(std::memory_order_relaxed);
    if (crowded) sched_yield();
    // Reading the clock costs as much as a failed probe; look at it every 16th poll, the first
    // time too (the window starts 15 polls late; a short wait, an apply's, reads no clock).
    if ((polls_ & 15) != 0 && p_.spin_ns > 0) return true;
    std::int64_t t = tick();
    if (idle_since_ == 0) idle_since_ = t;
    now_ = t;
    if (t - idle_since_ >= p_.spin_ns) return false;
    if (!crowded && t - idle_since_ > kYieldAfterNs && (polls_ & 63) == 0) sched_yield();
    return true;
  }
  // Whether every poll that found nothing yields the CPU, for every Backoff in the process. Set
  // once at start-up (runtime/node_crowding.hpp): with many more ranks than CPUs on the node, the
  // message a rank polls for comes from a rank that is waiting for a CPU, and a spinning poll
  // keeps it waiting.
  static void set_crowded(bool on) noexcept { crowded_.store(on, std::memory_order_relaxed); }
  static bool crowded() noexcept { return crowded_.load(std::memory_order_relaxed); }

  // Sleeps: briefly while the last message was recent, then for doubling intervals.
  void sleep() noexcept {
    sleep_with([](std::int64_t ns) {
      timespec ts{0, static_cast<long>(ns)};
      nanosleep(&ts, nullptr);
    });
  }
  // The same, but wait(ns) does the waiting: a caller that can also be woken by another thread
  // (an engine's worker finishing a task) waits on that for at most ns.
  template <class Wait>
  void sleep_with(Wait&& wait) {
    std::int64_t ns = kShortSleepNs;
    if (idle_since_ != 0 && now_ - idle_since_ >= p_.recent_ns) {
      ns = sleep_ns_;
      sleep_ns_ = std::min(sleep_ns_ * 2, p_.max_sleep_ns);
    }
    wait(ns);
    now_ = tick();
    if (idle_since_ == 0) idle_since_ = now_;
  }

 private:
  static std::int64_t tick() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
        .count();
  }
  static constexpr std::int64_t kShortSleepNs = 50'000;
  static constexpr std::int64_t kYieldAfterNs = 50'000;
  static inline std::atomic<bool> crowded_{false};
  BackoffPolicy p_;
  std::int64_t idle_since_ = 0;
  std::int64_t now_ = 0;
  unsigned polls_ = 0;
  std::int64_t sleep_ns_ = kShortSleepNs;
};

// Engines spin 2 ms after each task (longer than the client's short sleeps, so a client that
// reads a result late still finds the engine awake), sleep briefly for 20 ms, then up to 4 ms.
// Each wake-up (sleep, test, MPI progress) costs CPU: 1 ms sleeps, or 100 ms of short ones after
// every task, put an idle engine near the 2 % idle target (docs/benchmarks-log.md). The first task
// after a long idle spell waits at most 4 ms.
inline constexpr BackoffPolicy kEngineBackoff{2'000'000, 20'000'000, 4'000'000};
// The client's thread waiting on a result: spin 250 us, short sleeps for 20 ms, then up to 1 ms.
inline constexpr BackoffPolicy kClientBackoff{250'000, 20'000'000, 1'000'000};
// The progress thread, while the user's thread is elsewhere: never spins, sleeps at most 0.5 ms,
// which bounds how late `received` can be stamped.
inline constexpr BackoffPolicy kProgressBackoff{0, 20'000'000, 500'000};
// Shutdown waiting for tasks still on engines.
inline constexpr BackoffPolicy kDrainBackoff{0, 0, 1'000'000};

}  // namespace mpiply::detail
