#pragma once
// Time types. Two clocks, never mixed: metadata stamps (submitted, started, completed, received)
// are wall-clock times, aligned to rank 0's clock at start-up so stamps from every rank compare;
// timeouts and deadlines run on the steady clock, so a wall-clock step (NTP, an admin, a VM
// resume) cannot make a wait end early or run far too long.
#include <chrono>

namespace mpiply {

// Metadata stamps only.
using WallClock = std::chrono::system_clock;
using TimePoint = WallClock::time_point;
// Deadlines of waits and timeouts.
using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;
using Seconds = std::chrono::duration<double>;

// When a wait with this timeout must give up.
inline Deadline deadline_after(Seconds timeout) {
  return SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(timeout);
}

}  // namespace mpiply
