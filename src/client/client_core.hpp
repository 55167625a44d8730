#pragma once
// Rank 0's coordinator. It owns the components that run rank 0, wires them together, and keeps
// submission, waiting and shutdown; each component is a class of its own, in the file of its
// name:
//   EngineRoster   (engine_roster.hpp)   the engines, fixed at start-up
//   TaskTable      (hub/task_table.hpp)  records, kept values, output, usage by msg id
//   LiveOutputs    (live_outputs.hpp)    live output and published data
//   HubCap         (hub_cap.hpp)         MPIPLY_HUB_KEEP: culls and gives records back
//   EngineLinks    (engine_links.hpp)    per-engine rings, sends, the result inbox, aborts,
//                                        rank 0's own engine (Rank0Engine, rank0_engine.hpp)
//   TaskQueues     (task_queues.hpp)     load-balanced queues, queued / in-flight counts
//   Dispatcher     (dispatcher.hpp)      sending a task where it goes; the scheduler's sink
//   TaskAborts     (task_aborts.hpp)     tasks that will not start: abort, retire, shutdown, drain
//   ResultHandler  (result_handler.hpp)  results checked, kept, delivered or failed
//   DbRecorder     (db_recorder.hpp)     the task database: records, reuse
//   HubQueries     (hub_queries.hpp)     the hub's questions: resolve, metadata, purge, ...
//   ProgressDriver (progress_driver.hpp) one step of progress, callbacks, the progress thread
//                                        (ProgressThread, progress_thread.hpp)
//   Scheduler      (scheduling/)         flags, dependencies, retries, teams, placement
// The rest of src/client reaches them through rank0() (rank0.hpp); ClientDrain
// (client_drain.hpp) is built from that when a drain or shutdown waits for engines. Two
// threads drive rank 0 under one mutex: the user's thread while it waits on a result, and the
// progress thread while it does not.
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "client/callback_queue.hpp"
#include "client/db_recorder.hpp"
#include "client/dispatcher.hpp"
#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "client/hub_cap.hpp"
#include "client/hub_queries.hpp"
#include "client/live_outputs.hpp"
#include "client/progress_driver.hpp"
#include "client/rank0.hpp"
#include "client/result_handler.hpp"
#include "client/task_aborts.hpp"
#include "client/task_queues.hpp"
#include "hub/task_table.hpp"
#include "runtime/drain.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class ClientCore {
 public:
  // With client_runs_tasks (and at least one engine rank), rank 0 also serves as the last
  // engine (engine_roster.hpp).
  ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
             bool client_runs_tasks = false);
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  void start_progress_thread();
  MsgId submit(std::shared_ptr<TaskSource> src);
  bool wait(WaitPred pred, const void* ctx, const std::optional<Deadline>& deadline);
  // Drops queued tasks (their items fail as aborted), waits for those on engines, stops the
  // progress thread and sends every engine the stop message carrying code. Returns false, with
  // the tasks still on engines listed on stderr and no stop sent, if they outlast grace_ms.
  // code becomes kExitNotRecorded when it was 0 and the task database could not record every
  // finished task (the engines get that code).
  bool shutdown(int& code, std::int64_t grace_ms);

  // The components, for the rest of src/client (rank0.hpp).
  const Rank0& rank0() const noexcept { return rank0_; }

 private:
  // Each component holds references to the ones it uses; a reference to one declared later is
  // only stored by the constructor, not used.
  std::mutex mu_;
  EngineRoster roster_;
  TaskTable table_;
  LiveOutputs live_;
  HubCap cap_;
  EngineLinks links_;
  TaskQueues queues_;
  Dispatcher dispatcher_;
  TaskAborts aborts_;
  ResultHandler results_;
  DbRecorder db_;
  HubQueries hub_;
  // Built after its sink (the Dispatcher), destroyed before it and the queues and records it
  // reaches. It keeps the engine index (engines with room, told on every send and result) that
  // plain dispatch reads.
  Scheduler sched_;
  // Destroyed first: its destructor stops the progress thread, which uses every component.
  ProgressDriver progress_;
  Rank0 rank0_;
};

// Throws UsageError if flags' after / follow name a msg id purged or culled from the hub
// (src/client/dependency.cpp); called by submit under the lock, before anything is recorded.
void check_dependencies_in_hub_locked(const TaskTable& table, const TaskFlags& flags,
                                      const char* function);

}  // namespace mpiply::detail
