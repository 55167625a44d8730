#pragma once
// Rank 0's dispatch: tasks wait in a load-balanced queue (all engines, or a subset) or in their
// engine's direct queue; each engine holds at most `hwm` outstanding; a task with flags waits in
// the scheduler (scheduler.hpp), which places it. Sending one encodes it, fills it from the task
// database when an earlier run finished it, and hands it to the EngineLinks. Lock held.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class DbRecorder;
class ResultHandler;
class TaskAborts;

class Dispatcher {
 public:
  using Queue = std::deque<std::shared_ptr<TaskSource>>;

  // The references outlive the dispatcher (ClientCore owns all of them).
  Dispatcher(const EngineRoster& roster, TaskTable& table, Scheduler& sched, EngineLinks& links,
             ResultHandler& results, DbRecorder& db, TaskAborts& aborts);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // A plain submission (no scheduling flags), recorded and counted as queued: into the
  // load-balanced queue, or its tasks into their engines' direct queues.
  void enqueue_locked(const std::shared_ptr<TaskSource>& src);
  void dispatch_locked();
  // grant: what the scheduler gave a task with resource claims (none for the others); team:
  // a team member's engines, in team-rank order (task % size is its rank).
  void send_task_locked(int engine, const std::shared_ptr<TaskSource>& src, std::uint32_t task,
                        Grant grant = {}, std::span<const int> team = {});
  // Engine e may have direct tasks to send (given some, or a result made room).
  void list_direct_locked(int e);
  // A task still queued fails (the scheduler's fail, an abort, a retired engine).
  void fail_queued_locked(MsgId id, ErrorKind kind, const std::string& why);

  bool idle_locked() const { return inflight_ == 0 && queued_ == 0; }
  // Tasks on rank 0 not yet sent, and sent but not answered; adjusted by whoever moves one.
  std::size_t& queued() noexcept { return queued_; }
  std::size_t& inflight() noexcept { return inflight_; }
  Queue& lb() noexcept { return lb_; }
  Queue& lb_subset() noexcept { return lb_subset_; }

 private:
  int least_loaded_locked();
  int least_loaded_of_locked(const std::vector<int>& candidates) const;
  void dispatch_direct_locked();
  void dispatch_subsets_locked();

  const EngineRoster& roster_;
  TaskTable& table_;
  Scheduler& sched_;
  EngineLinks& links_;
  ResultHandler& results_;
  DbRecorder& db_;
  TaskAborts& aborts_;
  Queue lb_;
  // Load-balanced over a subset of engines (LoadBalancedView of some ids). Apart from lb_ so the
  // common all-engine queue keeps its O(1) head; dispatched first, as they have fewer choices.
  Queue lb_subset_;
  std::size_t queued_ = 0, inflight_ = 0;
  // Engines that may have direct tasks to send: listed when given some, and when one with
  // direct tasks left returns a result; dispatch looks at these only.
  std::vector<int> direct_ready_;
};

}  // namespace mpiply::detail
