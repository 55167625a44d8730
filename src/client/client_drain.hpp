#pragma once
// Rank 0's side of ending with tasks still on engines: a graceful drain after a signal
// (docs/drain.md) and the bounded wait of shutdown. Both wait for the tasks in flight until a
// deadline; what is left then is marked not run (drain) or listed on stderr (shutdown). Holds
// no state of its own: it is built on the spot from rank 0's components (rank0.hpp).
#include <cstdint>
#include <mutex>
#include <string>

#include "client/rank0.hpp"

namespace mpiply::detail {

class ClientDrain {
 public:
  explicit ClientDrain(const Rank0& rank0) : r_(rank0) {}

  // Waits until the tasks on engines finished or the deadline (steady ns) passed, marks the
  // rest not run and returns whether all finished. Lock not held.
  bool wait(std::int64_t deadline_ns);
  // Rank 0's done / not run / failed line, for the drain watchdog; lock not held (it gives up
  // on it after a while: an inline task may hold it).
  std::string summary();
  // In a wait on a result during a drain: throws Interrupted once it cannot be answered. Lock
  // held.
  void check_wait_locked();
  // Shutdown: waits at most grace_ms for the tasks on engines; false, with those left listed
  // on stderr, if they outlast it. lk holds the lock, released while sleeping.
  bool finish_in_flight_locked(std::unique_lock<std::mutex>& lk, std::int64_t grace_ms);

 private:
  void report_stuck_locked(std::int64_t grace_ms);

  const Rank0& r_;
};

// Throws mpiply::Interrupted naming the drain signal and why (client_drain.cpp).
[[noreturn]] void throw_interrupted(const char* why);

}  // namespace mpiply::detail
