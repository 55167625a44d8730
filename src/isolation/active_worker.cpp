// The worker's lives (active_worker.hpp).
#include "isolation/active_worker.hpp"

#include <algorithm>
#include <exception>

namespace mpiply::detail {

namespace {

// next() without progress looks for a dead worker every this many calls (a system call), besides
// after every wait().
constexpr unsigned kDeathCheckEvery = 256;

}  // namespace

ActiveWorker::ActiveWorker(unsigned depth) : depth_(std::clamp(depth, 1u, ShmRing::kMaxSlots)) {}

bool ActiveWorker::ready_for(Engine& eng, std::int64_t clock_offset_ns) {
  // An idle worker holds none of the tasks (a task's ring number is only set while it is in
  // flight), so dropping it here leaves every task as it is.
  if (proc_ && proc_->ring().in_flight() == 0 && (leaving_ || !proc_->serves(eng))) drop();
  if (leaving_) return false;  // posted tasks come back when the leaving worker is gone
  if (!proc_) {
    try {
      proc_ = std::make_unique<WorkerProcess>(eng, clock_offset_ns, depth_);
    } catch (const std::exception& e) {
      start_error_ = e.what();
      return false;
    }
    look_for_death_ = false;
  }
  return true;
}

void ActiveWorker::drop() {
  proc_.reset();
  leaving_ = false;
  look_for_death_ = false;
}

bool ActiveWorker::death_check_due() noexcept {
  if (!look_for_death_ && !leaving_ && ++idle_polls_ % kDeathCheckEvery != 0) return false;
  look_for_death_ = false;
  return true;
}

std::int64_t ActiveWorker::deadline(std::uint32_t time_limit_ms) {
  if (!time_limit_ms || !proc_) return 0;
  RingEngineEnd& r = proc_->ring();
  if (r.in_flight() == 0 || !r.oldest_started()) return 0;
  return r.oldest_started_ns() + std::int64_t(time_limit_ms) * 1'000'000;
}

}  // namespace mpiply::detail
