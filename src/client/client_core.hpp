#pragma once
// Rank 0's coordinator. It owns the components that run rank 0 and wires them together; each is
// a class of its own, in the file of its name:
//   EngineRoster   (engine_roster.hpp)   the engines, fixed at start-up
//   TaskTable      (hub/task_table.hpp)  records, kept values, output, usage by msg id
//   HubCap         (hub_cap.hpp)         MPIPLY_HUB_KEEP: culls and gives records back
//   EngineLinks    (engine_links.hpp)    per-engine rings, sends, the result inbox, aborts
//   Dispatcher     (dispatcher.hpp)      queues and sending a task where it goes
//   TaskAborts     (task_aborts.hpp)     tasks that will not start: abort, retire, drain
//   ResultHandler  (result_handler.hpp)  results checked, kept, delivered or failed
//   DbRecorder     (db_recorder.hpp)     the task database: records, reuse
//   HubQueries     (hub_queries.hpp)     the hub's questions: resolve, metadata, purge, ...
//   ProgressDriver (progress_driver.hpp) the progress thread and one step of progress
//   Scheduler      (scheduling/)         flags, dependencies, retries, teams, placement
// Two threads drive it under one mutex, `mu`: the user's thread while it waits on a result, and
// the progress thread while it does not. ClientCore keeps submission, waiting, shutdown and the
// drain, and carries out the scheduler's answers as its SchedulerSink.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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
#include "client/result_handler.hpp"
#include "client/task_aborts.hpp"
#include "hub/task_table.hpp"
#include "runtime/drain.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class ClientCore : private SchedulerSink {
 public:
  // With client_runs_tasks (and at least one engine rank), rank 0 also serves as the last
  // engine (engine_roster.hpp).
  ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
             bool client_runs_tasks = false);
  ~ClientCore();
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
  // Graceful drain (src/client/client_drain.cpp, docs/drain.md). drain_wait waits until the
  // tasks on engines finished or the deadline (steady_ns) passed, marks the rest not run and
  // returns whether all finished; drain_summary is rank 0's done / not run / failed line.
  bool drain_wait(std::int64_t deadline_ns);
  std::string drain_summary();

  // The components, for the rest of src/client. Every use but engines() holds `mu`.
  const EngineRoster& engines() const noexcept { return roster_; }
  TaskTable& table() noexcept { return table_; }
  const TaskTable& table() const noexcept { return table_; }
  const HubCap& cap() const noexcept { return cap_; }
  HubQueries& hub() noexcept { return hub_; }
  DbRecorder& db() noexcept { return db_; }
  EngineLinks& links() noexcept { return links_; }
  TaskAborts& aborts() noexcept { return aborts_; }
  ResultHandler& results() noexcept { return results_; }
  ProgressDriver& progress() noexcept { return progress_; }
  // Flags, dependencies, retries, schemes, engines in service (scheduler.hpp).
  const Scheduler& scheduler() const noexcept { return sched_; }
  // Live output and published data (live_outputs.hpp, docs/output.md).
  LiveOutputs& live_locked() noexcept { return live_; }
  bool idle_locked() const { return dispatcher_.idle_locked(); }

  std::mutex mu;
  // Done callbacks of finished results, to run once the lock is released (callback_queue.hpp).
  std::vector<PendingCallback> ready_callbacks;

 private:
  // SchedulerSink: the scheduler's answers, carried out (client_core.cpp).
  void place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
             const Placement& where) override;
  void fail(MsgId id, ErrorKind kind, const std::string& why) override;
  TaskOutcome outcome(MsgId id) const override;
  void drain_check_wait_locked();  // drain: throws Interrupted once a wait cannot be answered
  void report_stuck_locked(std::int64_t grace_ms);

  // Each component holds references to the ones it uses; a reference to one declared later is
  // only stored by the constructor, not used.
  EngineRoster roster_;
  TaskTable table_;
  LiveOutputs live_;
  HubCap cap_;
  EngineLinks links_;
  Dispatcher dispatcher_;
  TaskAborts aborts_;
  ResultHandler results_;
  DbRecorder db_;
  HubQueries hub_;
  ProgressDriver progress_;
  bool shut_down_ = false;
  // Last: it goes first, before the queues and records its sink reaches. It keeps the engine
  // index (engines with room, told on every send and result) that plain dispatch reads.
  Scheduler sched_;
};

// Throws UsageError if flags' after / follow name a msg id purged or culled from the hub
// (src/client/dependency.cpp); called by submit under the lock, before anything is recorded.
void check_dependencies_in_hub_locked(const ClientCore& core, const TaskFlags& flags,
                                      const char* function);

// Throws mpiply::Interrupted naming the drain signal and why (client_drain.cpp).
[[noreturn]] void throw_interrupted(const char* why);

}  // namespace mpiply::detail
