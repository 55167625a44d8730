#pragma once
// Tasks that will not start: aborted ones (ar.abort, rc.abort, view.abort), those left without
// an engine by rc.shutdown(targets), and every queued one once client_main returned or a drain
// signal arrived (docs/drain.md). A task still queued on rank 0 fails at once; one already sent
// to an engine rank is named in an abort message and the engine answers it without running it,
// unless it has started. Lock held throughout.
#include <cstddef>
#include <memory>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "client/task_queues.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class HubQueries;
class ResultHandler;

class TaskAborts {
 public:
  // The references outlive this (ClientCore owns all of them).
  TaskAborts(const EngineRoster& roster, TaskTable& table, Scheduler& sched, EngineLinks& links,
             TaskQueues& queues, ResultHandler& results, const HubQueries& hub)
      : roster_(roster), table_(table), sched_(sched), links_(links), queues_(queues),
        results_(results), hub_(hub) {}
  TaskAborts(const TaskAborts&) = delete;
  TaskAborts& operator=(const TaskAborts&) = delete;

  // Tasks not yet started never run: queued ones fail at once, those on an engine when it
  // reaches them. Returns how many were still to start (finished ones are left alone).
  std::size_t abort_locked(const std::vector<MsgId>& ids);
  // rc.shutdown(targets): those engines take no more tasks; queued plain tasks left with no
  // engine fail as aborted, flagged ones as ImpossibleDependency.
  void retire_engines_locked(const std::vector<int>& engines);
  // A plain submission after rc.shutdown(targets): fails its tasks if no engine is left for
  // them (load-balanced) or if one of its targets was shut down (DirectView: all or nothing).
  // False, with nothing done, otherwise.
  bool refuse_retired_locked(const std::shared_ptr<TaskSource>& src);
  // client_main returned: every task still queued (plain, direct or in the scheduler) fails as
  // aborted; those aborted already are left alone.
  void shutdown_locked();
  // drain: queued tasks fail as not run, nothing new starts (client_drain.cpp has the rest).
  void drain_locked();

 private:
  void abort_queued_locked(TaskRecord& rec, MsgId id);
  void prune_queues_locked();

  const EngineRoster& roster_;
  TaskTable& table_;
  Scheduler& sched_;
  EngineLinks& links_;
  TaskQueues& queues_;
  ResultHandler& results_;
  const HubQueries& hub_;
};

}  // namespace mpiply::detail
