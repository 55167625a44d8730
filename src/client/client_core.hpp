#pragma once
// Rank 0's scheduler and task table. Tasks wait in a load-balanced queue or a per-engine queue;
// each engine holds at most `hwm` outstanding, sent with nonblocking sends; results land in
// persistent receives posted per engine (transport.hpp's ResultInbox), no probe. Two threads
// drive it under one mutex: the user's thread while it waits on a result, and a progress thread
// while it does not, so `received` is stamped on arrival even when the user's code is busy.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>
#include <mpiply/engine.hpp>
#include <mpiply/metadata.hpp>

#include <mpiply/hub.hpp>
#include <mpiply/query.hpp>

#include "client/callback_queue.hpp"
#include "runtime/drain.hpp"
#include "engine/engine_abort.hpp"
#include "isolation/isolation.hpp"
#include "client/live_outputs.hpp"
#include "engine/local_engine.hpp"
#include "hub/record_table.hpp"
#include "hub/result_store.hpp"
#include "scheduling/scheduler.hpp"
#include "wire/transport.hpp"
#include "hub/usage_table.hpp"
#include "runtime/startup.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

// First byte of a kept result that rank 0 failed itself (a result's items start with 0 or 1).
inline constexpr char kRankZeroFailure = '\xfe';
// The text of a task aborted before it was sent (kept once here, not per task).
inline constexpr const char* kAbortedQueuedText =
    "aborted by the client before it was sent to an engine; it never ran (abort stops only tasks "
    "not yet started: a running task finishes, stopping running code needs a run-time limit)";

struct InFlight {
  MsgId msg = 0;
  MPI_Request req = MPI_REQUEST_NULL;
  MPI_Request big_req = MPI_REQUEST_NULL;  // the message itself, when an envelope went first
  Envelope env{};
  std::vector<MPI_Request> seg_reqs;
  Bytes scratch;  // reused message buffer of this slot
  Bytes team_msg;  // a team member's message: the task's with its team inserted
  ResumeKey key;  // for the task database's record (client_db.cpp); zero when it is off
  std::shared_ptr<TaskSource> src;
};

struct EngineSlot {
  std::vector<InFlight> ring;  // outstanding tasks in send order (engines answer in order)
  unsigned head = 0, count = 0;
  std::deque<std::pair<std::shared_ptr<TaskSource>, std::uint32_t>> direct;
  bool direct_listed = false;  // in ClientCore::direct_ready_
};

// Rank 0's coordinator. It owns the scheduler (scheduler.hpp) and carries out its answers as
// its SchedulerSink: sending a placed task, failing one that cannot run, telling where a task
// stands.
class ClientCore : private SchedulerSink {
 public:
  // With client_runs_tasks (and at least one engine rank), rank 0 also serves as the last
  // engine, id engines.size(), on a thread of its own (local_engine.hpp): ranks 1..N-1 keep ids
  // 0..N-2, so adding it changes no other engine's id.
  ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
             bool client_runs_tasks = false);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  void start_progress_thread();
  // Takes one result message from engine e: it answers the oldest task outstanding there. A
  // malformed message fails that task, never the job. Lock held. (Public so that tests can hand
  // it bytes the transport would deliver.)
  void handle_result_locked(int engine, const char* p, std::size_t n, std::int64_t received);
  // Drops queued tasks (their items fail as aborted), waits for those on engines, stops the
  // progress thread and sends every engine the stop message carrying code. Returns false, with
  // the tasks still on engines listed on stderr and no stop sent, if they outlast grace_ms.
  // code becomes kExitNotRecorded when it was 0 and the task database could not record every
  // finished task (the engines get that code).
  bool shutdown(int& code, std::int64_t grace_ms);

  MsgId submit(std::shared_ptr<TaskSource> src);
  bool wait(WaitPred pred, const void* ctx, const std::optional<Deadline>& deadline);

  // With the lock held:
  TaskRecord& record(MsgId id) { return records_[id - base_]; }
  const TaskRecord& record(MsgId id) const { return records_[id - base_]; }
  TaskTimes times_locked(MsgId id) const { return records_.times(record(id)); }
  std::int64_t submitted_locked(MsgId id) const { return store_.submission(id).submitted; }
  std::uint64_t fn_id_locked(MsgId id) const { return store_.submission(id).fn_id; }
  TaskMetadata metadata_locked(MsgId id) const;
  bool sent_locked(MsgId first, std::uint32_t n);
  bool sent_locked(MsgId id);
  bool idle_locked() const { return inflight_ == 0 && queued_ == 0; }
  MsgId next_msg_locked() const { return base_ + records_.size(); }
  MsgId base_locked() const { return base_; }

  std::vector<int> ids() const;
  bool inline_mode() const { return inline_; }
  int hwm() const { return hwm_; }
  const EngineInfo& engine_info(int id) const { return engines_[id]; }
  std::size_t num_engines() const { return engines_.size(); }
  int num_ranks() const { return inline_ ? 1 : mpi_engines_ + 1; }
  // The engine id served on rank 0 by a LocalEngine, or -1.
  int local_id() const { return local_id_; }
  MPI_Comm comm() const { return comm_; }  // the library's communicator; MPI under `mu` only
  bool client_runs_tasks() const { return local_id_ >= 0; }

  // Graceful drain (src/client/client_drain.cpp, docs/drain.md). drain_wait waits until the tasks on
  // engines finished or the deadline (steady_ns) passed, marks the rest not run and returns
  // whether all finished; drain_summary is rank 0's done / not run / failed line.
  bool drain_wait(std::int64_t deadline_ns);
  std::string drain_summary();

  // The hub (src/client/client_hub.cpp, src/client/client_abort.cpp), lock held. A msg id that is not in
  // the table, or was purged from the hub, is a UsageError naming `what`.
  const TaskRecord& known_record_locked(MsgId id, const char* what) const;
  static bool finished(const TaskRecord& r) {
    return r.status != TaskStatus::queued && r.status != TaskStatus::sent;
  }
  // The msg ids jobs names (history positions resolved, all = every task the hub knows).
  std::vector<MsgId> resolve_locked(const Jobs& jobs, const char* what) const;
  std::vector<MsgId> hub_history_locked() const;
  // Msg ids of the tasks queued or running, oldest first.
  std::vector<MsgId> outstanding_locked() const;
  // Tasks not yet started never run: queued ones fail at once, those on an engine when it
  // reaches them. Returns how many were still to start (finished ones are left alone).
  std::size_t abort_locked(const std::vector<MsgId>& ids);
  std::shared_ptr<ResultStateBase> hub_state_locked(const std::shared_ptr<ClientCore>& self,
                                                    const std::vector<MsgId>& ids,
                                                    const std::type_info* type,
                                                    const char* what);
  // With skip_taken, tasks whose owning handle fetched the result are left out (results()).
  std::map<MsgId, StoredResult> results_locked(const std::shared_ptr<ClientCore>& self,
                                               const std::vector<MsgId>& ids,
                                               bool skip_taken = false);
  // A handle that owns these tasks' results fetched them (AsyncResult::get).
  void mark_taken_locked(const ResultStateBase& st);
  bool taken_locked(MsgId id) const {
    return id - base_ < taken_.size() && taken_[id - base_];
  }
  QueueStatus queue_status_locked(const std::vector<int>& targets, bool verbose) const;
  // purge: local = the kept values (and sources), hub = the records themselves.
  void purge_locked(const Jobs& jobs, const std::vector<int>& targets, bool local, bool hub,
                    const char* what);
  // A new submission running the same calls as ids, with new msg ids.
  std::shared_ptr<TaskSource> resubmit_source_locked(const std::shared_ptr<ClientCore>& self,
                                                     const std::vector<MsgId>& ids,
                                                     const std::type_info* type);
  std::vector<TaskMetadata> db_query_locked(const Query& q);
  std::size_t results_bytes_locked() const { return store_.bytes_held(); }
  // Why a msg id of this run is no longer in the hub (record_table.hpp's Gone), and how many
  // records the cap (MPIPLY_HUB_KEEP) culled so far. src/client/client_retention.cpp.
  Gone gone_locked(MsgId id) const { return records_.gone(id - base_); }
  std::uint64_t culled_locked() const noexcept { return culled_; }
  // Gives a finished task's record back (purge_hub_results, or the cap's cull): its kept bytes,
  // output, usage entry, scheduler entry, its submission once it was the last, and its record
  // and slot once its block has no other.
  void release_record_locked(MsgId id, bool culled);

  // The task database (client_db.cpp, docs/database.md): from here on every finished task is
  // recorded, and tasks an earlier run finished are filled from it instead of being sent. A
  // drain flushes it. close_db closes it and returns rank 0's summary line ("" when off).
  void attach_db(std::shared_ptr<TaskDb> db, bool resume, bool any_build);
  std::string close_db();
  const std::shared_ptr<TaskDb>& db_locked() const { return db_; }  // client_db_hub.cpp

  std::mutex mu;
  // Done callbacks of finished results, to run once the lock is released (callback_queue.hpp).
  std::vector<PendingCallback> ready_callbacks;
  // Wakes the progress thread so it runs ready_callbacks (src/client/client_progress.cpp). Lock held.
  void callbacks_queued_locked();
  // Flags, dependencies, retries, schemes, engines in service (scheduler.hpp). Lock held.
  const Scheduler& scheduler() const noexcept { return sched_; }
  // rc.shutdown(targets): those engines take no more tasks; queued plain tasks left with no
  // engine fail as aborted, flagged ones as ImpossibleDependency. Lock held.
  void retire_engines_locked(const std::vector<int>& engines);
  // Live output and published data (live_outputs.hpp, docs/output.md). Lock held.
  LiveOutputs& live_locked() noexcept { return live_; }

 private:
  // SchedulerSink: the scheduler's answers, carried out (client_core.cpp).
  void place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
             const Placement& where) override;
  void fail(MsgId id, ErrorKind kind, const std::string& why) override;
  TaskOutcome outcome(MsgId id) const override;
  // A plain submission after rc.shutdown(targets): fails its tasks if no engine is left for
  // them (load-balanced) or if one of its targets was shut down (DirectView: all or nothing).
  // False, with nothing done, otherwise.
  bool refuse_retired_locked(const std::shared_ptr<TaskSource>& src);
  void drain_locked();             // drain: queued tasks fail as not run, nothing new starts
  void drain_check_wait_locked();  // drain: throws Interrupted once a wait cannot be answered

  bool progress_locked();
  void dispatch_locked();
  int least_loaded_locked();
  int least_loaded_of_locked(const std::vector<int>& candidates) const;
  void list_direct_locked(int e);
  void dispatch_direct_locked();
  void dispatch_subsets_locked();
  // grant: what the scheduler gave a task with resource claims (none for the others); team:
  // a team member's engines, in team-rank order (task % size is its rank).
  void send_task_locked(int engine, const std::shared_ptr<TaskSource>& src, std::uint32_t task,
                        Grant grant = {}, std::span<const int> team = {});
  bool poll_results_locked();
  void store_items_locked(TaskRecord& rec, int engine, MsgId id, Reader items);
  bool retried_locked(TaskRecord& rec, int engine, MsgId id, const char* items, std::size_t n);
  // A pull_into's payload of `bytes` that follows the result from engine e: received into the
  // memory the task's state names, or dropped and the task failed (returns false).
  // src/client/client_payload.cpp.
  bool take_payload_locked(int e, TaskRecord& rec, MsgId id, std::uint64_t bytes);
  // Hands a task's items to one result state (item indices from base); returns whether any
  // item failed and whether every item was aborted.
  struct Delivered {
    bool failed = false, all_aborted = true;
  };
  Delivered deliver_items_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec,
                                 MsgId id, Reader items);
  // Hands a finished task's kept items to st (a hub state or a follower).
  void replay_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec, MsgId id);
  const std::string& engine_host(int e) const {
    static const std::string none;
    return e >= 0 ? engines_[static_cast<std::size_t>(e)].hostname : none;
  }
  // The error text of a finished task's first failing item, from its kept values.
  std::string first_error_locked(MsgId id) const;
  void abort_queued_locked(TaskRecord& rec, MsgId id);
  void prune_queues_locked();
  // Fails every item of a task with an error of this kind (ename from the kind).
  void fail_items_locked(TaskRecord& rec, MsgId id, ErrorKind kind, const std::string& evalue);
  void progress_main();
  // The hub's cap (src/client/client_retention.cpp): a task finished; cull_locked culls the oldest
  // finished tasks no AsyncResult holds while more than hub_keep_ are kept.
  void count_finished_locked() noexcept { ++hub_finished_; }
  void maybe_cull_locked() {
    if (hub_finished_ > cull_at_) cull_locked();
  }
  void cull_locked();
  // Task database (client_db.cpp), lock held, only called when db_ is set. db_reuse_locked
  // computes the task's key and, if an earlier run finished it, fills its items as a result
  // would and returns true (the task is not sent).
  bool db_reuse_locked(const std::shared_ptr<TaskSource>& src, TaskRecord& rec, MsgId id,
                       std::span<const char> msg, ResumeKey& key);
  void db_append_locked(const TaskRecord& rec, MsgId id, const ResumeKey& key,
                        std::span<const char> result, std::string_view error);
  struct DbFunction {
    std::string name;
    KeyHasher seed;
    bool collective = false;
    std::string code;  // TaskRow::code: "version:<v>" if registered with one, else "build:<id>"
  };
  // kExitNotRecorded if code is 0 and the database failed to record a task, else code.
  int db_exit_code(int code);
  const DbFunction& db_function_locked(std::uint64_t fn_id);
  void report_stuck_locked(std::int64_t grace_ms);

  MPI_Comm comm_;
  std::vector<EngineInfo> engines_;
  bool inline_;
  int hwm_;
  std::unique_ptr<Engine> local_;  // the inline engine when there is one rank
  int mpi_engines_ = 0;            // engine ranks: ids 0..mpi_engines_-1
  int local_id_ = -1;
  std::unique_ptr<LocalEngine> local_engine_;

  RecordTable records_;
  // Captured output (MPIPLY_CAPTURE) of tasks that wrote any, by msg id, and the resource use
  // of every task that carried it, by msg id - base_ (no map entry per silent task).
  struct TaskOutput {
    std::string out, err;
  };
  std::unordered_map<MsgId, TaskOutput> outputs_;
  UsageTable usage_;
  LiveOutputs live_;
  MsgId base_ = 0;
  // By msg id - base_: the owning handle fetched the task's result (results() leaves it out).
  std::vector<bool> taken_;
  std::vector<EngineSlot> slots_;
  std::deque<std::shared_ptr<TaskSource>> lb_;
  // Load-balanced over a subset of engines (LoadBalancedView of some ids). Apart from lb_ so the
  // common all-engine queue keeps its O(1) head; dispatched first, as they have fewer choices.
  std::deque<std::shared_ptr<TaskSource>> lb_subset_;
  std::size_t queued_ = 0, inflight_ = 0;
  // Engines that may have direct tasks to send: listed when given some, and when one with
  // direct tasks left returns a result; dispatch looks at these only.
  std::vector<int> direct_ready_;
  std::unique_ptr<ResultInbox> inbox_;  // gone after shutdown: it must not outlive the communicator
  std::unique_ptr<AbortOutbox> abort_out_;  // likewise
  ResultStore store_{records_};
  Bytes inline_out_;
  Isolation inline_iso_;  // the inline engine's worker process (isolated tasks, one rank)

  std::thread progress_;
  std::condition_variable cv_;
  bool stop_thread_ = false;
  bool bg_idle_ = false;
  int driving_ = 0;
  bool shut_down_ = false;
  std::shared_ptr<TaskDb> db_;  // null: off (every hook is behind one test of this)
  bool db_resume_ = false;
  bool db_any_build_ = false;
  std::uint64_t db_reused_ = 0;
  std::uint64_t db_malformed_ = 0;  // stored results whose checksum matched but did not decode
  std::unordered_map<std::uint64_t, DbFunction> db_functions_;
  Bytes db_scratch_;
  std::uint64_t hub_keep_;           // MPIPLY_HUB_KEEP, UINT64_MAX: keep every record
  std::uint64_t hub_finished_ = 0;   // finished tasks whose record is still in the hub
  std::uint64_t cull_at_;            // cull once hub_finished_ passes this
  std::uint64_t culled_ = 0;
  MsgId cull_from_ = 0;              // every msg id below it is out of the hub already
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
