#pragma once
// The hub's cap (MPIPLY_HUB_KEEP, docs/hub.md "Memory"): it counts the finished tasks whose
// record is still in the hub and culls the oldest that no AsyncResult holds while more than the
// cap are kept; it also gives back a record that purge_hub_results drops. Lock held throughout.
#include <cstdint>

#include <mpiply/detail/core.hpp>

#include "client/live_outputs.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class HubCap {
 public:
  // keep: MPIPLY_HUB_KEEP, UINT64_MAX to keep every record. The references outlive the cap
  // (ClientCore owns all of them).
  HubCap(TaskTable& table, Scheduler& sched, LiveOutputs& live, std::uint64_t keep)
      : table_(table), sched_(sched), live_(live), keep_(keep), cull_at_(keep) {}
  HubCap(const HubCap&) = delete;
  HubCap& operator=(const HubCap&) = delete;

  // A task finished; maybe_cull_locked culls once more than the cap are kept (called where no
  // code still reads the record of a task it is finishing).
  void count_finished_locked() noexcept { ++finished_; }
  void maybe_cull_locked() {
    if (finished_ > cull_at_) cull_locked();
  }
  // Gives a finished task's record back (purge_hub_results, or the cull): its kept bytes,
  // output, usage entry, scheduler entry, its submission once it was the last, and its record
  // and slot once its block has no other.
  void release_record_locked(MsgId id, bool culled);
  std::uint64_t keep() const noexcept { return keep_; }
  // How many records the cap culled so far.
  std::uint64_t culled_locked() const noexcept { return culled_; }

 private:
  void cull_locked();

  TaskTable& table_;
  Scheduler& sched_;
  LiveOutputs& live_;
  std::uint64_t keep_;           // MPIPLY_HUB_KEEP, UINT64_MAX: keep every record
  std::uint64_t finished_ = 0;   // finished tasks whose record is still in the hub
  std::uint64_t cull_at_;        // cull once finished_ passes this
  std::uint64_t culled_ = 0;
  MsgId cull_from_ = 0;          // every msg id below it is out of the hub already
};

}  // namespace mpiply::detail
