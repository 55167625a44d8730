#pragma once
// Open MPI, on an oversubscribed node (more ranks than cores), makes every MPI call that finds
// nothing to do call sched_yield (its mpi_yield_when_idle, on by default there). That suits a
// blocking MPI_Recv, which would otherwise spin out its time slice; it does not suit mpiply's
// poll loops, which test a receive, find nothing most of the time and have their own back-off
// (src/support/backoff.hpp). With three ranks on two cores, a chunksize-1 map spent most of its time in
// the scheduler and ran several times slower with the yields in its polls than without
// (docs/benchmarks-log.md, last section).
//
// NoIdleYield turns that yield off for one poll and back on after it, so MPI calls elsewhere
// (user code, collectives, blocking sends of large messages) keep Open MPI's behaviour. Open
// MPI's flag is a plain exported bool (opal_progress_yield_when_idle), found at run time: with
// another MPI, or an Open MPI without it, this does nothing.
#include <atomic>

namespace mpiply::detail {

// Open MPI's flag, or null when this MPI has none. Resolved once.
bool* mpi_idle_yield_flag() noexcept;

class NoIdleYield {
 public:
  NoIdleYield() noexcept {
    static bool* const flag = mpi_idle_yield_flag();
    // A load first: where the flag is off (not oversubscribed) a poll writes nothing.
    if (flag != nullptr && std::atomic_ref<bool>(*flag).load(std::memory_order_relaxed)) {
      std::atomic_ref<bool>(*flag).store(false, std::memory_order_relaxed);
      flag_ = flag;
    }
  }
  // Put back only by a scope that found it on: with two threads polling at once, the flag
  // still ends as it began.
  ~NoIdleYield() {
    if (flag_ != nullptr) std::atomic_ref<bool>(*flag_).store(true, std::memory_order_relaxed);
  }
  NoIdleYield(const NoIdleYield&) = delete;
  NoIdleYield& operator=(const NoIdleYield&) = delete;

 private:
  bool* flag_ = nullptr;
};

}  // namespace mpiply::detail
