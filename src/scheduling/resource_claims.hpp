#pragma once
// Tasks with resource claims (cores, GPUs, memory, named amounts; docs/resources.md) as the
// scheduler places them: the engines' free amounts (ResourcePool), the grant of every such task
// placed and not finished, and the one reservation that keeps a large task from waiting for ever
// behind a stream of small ones.
//
// Placement is best fit: among the engines a task may use with room, where its amounts are free
// now, the one that leaves the fewest cores, then GPUs, free (a larger task later finds a larger
// hole), then the least loaded. The first task with claims that fits nowhere holds one engine
// it could fit on: tasks behind it (lower priority, or equal and later) are not placed there
// until it goes.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduling/engine_states.hpp"
#include "scheduling/resource_pool.hpp"
#include "scheduling/scheduler_job.hpp"

namespace mpiply::detail {

class ResourceClaims {
 public:
  // n engines holding one core each and nothing else; no grant, no reservation.
  void reset(std::size_t n);
  void set(int e, const EngineResources& r) { pool_.set(e, r); }
  const ResourcePool& pool() const noexcept { return pool_; }
  // Why no engine of these (all when empty) can ever hold r, or "" if one can.
  std::string never_fits(const ResourceRequest& r, const std::vector<int>& engines) const;

  // The engine held for the first task that did not fit, or -1; the task it is held for.
  int reserved_engine() const noexcept { return reserve_.engine; }
  MsgId reserved_for() const noexcept { return reserve_.id; }
  void end_reservation() { reserve_ = {}; }
  // Task id of job found no engine: unless some task holds the reservation, it holds the
  // usable engine with the most cores free, the one likely to fit it first.
  template <class Usable>
  void reserve(const Job& job, MsgId id, Usable&& usable) {
    if (reserve_.engine >= 0) return;
    int at = -1;
    for (int c : job.allowed)
      if (usable(c) && (at < 0 || pool_.free_cores(c) > pool_.free_cores(at))) at = c;
    reserve_ = {at, id, job.priority, job.seq};
  }

  // The best fit for task id of job (ti: its record) among the engines it may use, -1 if its
  // amounts are free on none of them now.
  int fit(const Job& job, const TaskInfo& ti, MsgId id, const EngineStates& engines) const;
  // Takes job's amounts on engine e for task id (fits there now) and ends its reservation.
  Grant take(int e, MsgId id, const std::shared_ptr<Job>& job);
  // Task id's run ended: its amounts are free again. False if it held none.
  bool give_back(MsgId id);
  // Whether some placed task holds amounts (else give_back has nothing to look for).
  bool holding() const noexcept { return !grants_.empty(); }

 private:
  struct Held {
    int engine;
    Grant grant;
    std::shared_ptr<Job> job;  // its request
  };
  struct Reservation {
    int engine = -1;
    MsgId id = 0;
    int priority = 0;
    std::uint64_t seq = 0;
  };

  ResourcePool pool_;
  std::unordered_map<MsgId, Held> grants_;  // tasks with claims, placed and not finished
  Reservation reserve_;
};

}  // namespace mpiply::detail
