#pragma once
// Rank 0's dispatch: tasks wait in a load-balanced queue (all engines, or a subset; TaskQueues)
// or in their engine's direct queue; each engine holds at most `hwm` outstanding; a task with
// flags waits in the scheduler (scheduler.hpp), which places it: the Dispatcher is its
// SchedulerSink and carries out its answers. Sending one encodes it, fills it from the task
// database when an earlier run finished it, and hands it to the EngineLinks. Lock held.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "client/task_queues.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class DbRecorder;
class ResultHandler;
class TaskAborts;

class Dispatcher : public SchedulerSink {
 public:
  // The references outlive the dispatcher (ClientCore owns all of them); sched is only stored
  // here (it is built after the dispatcher, as its sink).
  Dispatcher(const EngineRoster& roster, TaskTable& table, Scheduler& sched, EngineLinks& links,
             TaskQueues& queues, ResultHandler& results, DbRecorder& db, TaskAborts& aborts);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // A plain submission (no scheduling flags), already counted as queued: into a load-balanced
  // queue, or its tasks into their engines' direct queues.
  void enqueue_locked(const std::shared_ptr<TaskSource>& src);
  void dispatch_locked();
  // grant: what the scheduler gave a task with resource claims (none for the others); team:
  // a team member's engines, in team-rank order (task % size is its rank).
  void send_task_locked(int engine, const std::shared_ptr<TaskSource>& src, std::uint32_t task,
                        Grant grant = {}, std::span<const int> team = {});

 private:
  // SchedulerSink: the scheduler's answers, carried out.
  void place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
             const Placement& where) override;
  void fail(MsgId id, ErrorKind kind, const std::string& why) override;
  TaskOutcome outcome(MsgId id) const override;

  int least_loaded_of_locked(const std::vector<int>& candidates) const;
  void dispatch_direct_locked();
  void dispatch_subsets_locked();

  const EngineRoster& roster_;
  TaskTable& table_;
  Scheduler& sched_;
  EngineLinks& links_;
  TaskQueues& queues_;
  ResultHandler& results_;
  DbRecorder& db_;
  TaskAborts& aborts_;
};

}  // namespace mpiply::detail
