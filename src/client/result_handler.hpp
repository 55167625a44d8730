#pragma once
// Rank 0's result handling: a result checked against the task it answers (the head of its
// engine's ring), kept by the hub, delivered to the AsyncResult's state and followers, or every
// item failed with a reason; a task that raised with retries left queued again; a pull_into's
// payload received into the caller's memory. Lock held throughout.
#include <cstddef>
#include <cstdint>
#include <string>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/engine_roster.hpp"
#include "client/hub_cap.hpp"
#include "client/live_outputs.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

// First byte of a kept result that rank 0 failed itself (a result's items start with 0 or 1).
inline constexpr char kRankZeroFailure = '\xfe';
// The text of a task aborted before it was sent (kept once here, not per task).
inline constexpr const char* kAbortedQueuedText =
    "aborted by the client before it was sent to an engine; it never ran (abort stops only tasks "
    "not yet started: a running task finishes, stopping running code needs a run-time limit)";

class DbRecorder;
class EngineLinks;
class TaskQueues;

class ResultHandler {
 public:
  // The references outlive the handler (ClientCore owns all of them). Once the queues are
  // closed (client_main returned), a task that raised is not retried.
  ResultHandler(const EngineRoster& roster, TaskTable& table, EngineLinks& links,
                TaskQueues& queues, Scheduler& sched, DbRecorder& db, HubCap& cap,
                LiveOutputs& live);
  ResultHandler(const ResultHandler&) = delete;
  ResultHandler& operator=(const ResultHandler&) = delete;

  // Takes one result message from engine e: it answers the oldest task outstanding there. A
  // malformed message fails that task, never the job.
  void handle_result_locked(int engine, const char* p, std::size_t n, std::int64_t received);
  // Tasks sent and not yet answered, on every engine.
  std::size_t tasks_in_flight_locked() const noexcept;
  void store_items_locked(TaskRecord& rec, int engine, MsgId id, Reader items);
  // Fails every item of a task with an error of this kind (ename from the kind).
  void fail_items_locked(TaskRecord& rec, MsgId id, ErrorKind kind, const std::string& evalue);
  // The same for a task still queued on rank 0 (not sent): it leaves the queued count.
  void fail_queued_locked(MsgId id, ErrorKind kind, const std::string& evalue);
  // Hands a finished task's kept items to st (a hub state or a follower).
  void replay_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec, MsgId id);
  // The error text of a finished task's first failing item, from its kept values.
  std::string first_error_locked(MsgId id) const;

 private:
  bool retried_locked(TaskRecord& rec, int engine, MsgId id, const char* items, std::size_t n);
  // A pull_into's payload of `bytes` that follows the result from engine e: received into the
  // memory the task's state names, or dropped and the task failed (returns false).
  // src/client/result_payload.cpp.
  bool take_payload_locked(int e, TaskRecord& rec, MsgId id, std::uint64_t bytes);
  // Hands a task's items to one result state (item indices from base); returns whether any
  // item failed and whether every item was aborted.
  struct Delivered {
    bool failed = false, all_aborted = true;
  };
  Delivered deliver_items_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec,
                                 MsgId id, Reader items);

  const EngineRoster& roster_;
  TaskTable& table_;
  EngineLinks& links_;
  TaskQueues& queues_;
  Scheduler& sched_;
  DbRecorder& db_;
  HubCap& cap_;
  LiveOutputs& live_;
};

}  // namespace mpiply::detail
