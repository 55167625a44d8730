#pragma once
// What the scheduler keeps per task of a flagged submission: its job (flags, dependencies,
// where it may run) and the engines it was sent to, from admission until the task is finished
// and purged. It also counts the tasks not finished yet, and those of them whose job has
// retries, so that a result costs nothing here while no flagged task is live (Scheduler::
// on_finished) and a raised task is not looked up while none may run again (retrying).
#include <cstddef>
#include <memory>
#include <unordered_map>

#include <mpiply/metadata.hpp>

#include "scheduling/scheduler_job.hpp"
#include "scheduling/scheduler_types.hpp"

namespace mpiply::detail {

class TaskRecords {
 public:
  explicit TaskRecords(SchedulerSink& sink) : sink_(sink) {}
  TaskRecords(const TaskRecords&) = delete;
  TaskRecords& operator=(const TaskRecords&) = delete;

  // Every task of a job just admitted.
  void add(const std::shared_ptr<Job>& job);
  // A queued task's record, made if it has none yet. Only for a task still to run: one whose
  // record was forgotten (finished and purged) must not get one back with no job.
  TaskInfo& at(MsgId id) { return tasks_[id]; }
  // A task's record; nullptr for a task never admitted (or forgotten).
  TaskInfo* find(MsgId id);
  const TaskInfo* find(MsgId id) const;
  // Whether task id was never sent: true also for a task with no record (a run's next task may
  // be one aborted while it waited and purged since).
  bool untried(MsgId id) const {
    const TaskInfo* ti = find(id);
    return ti == nullptr || ti->tried.empty();
  }
  // Whether some admitted task has not finished.
  bool live() const noexcept { return live_ != 0; }
  // Task id finished: it no longer counts, and its job lets go of its source once all have.
  void finished(MsgId id);
  // Whether some task held here may run again (else Scheduler::retry is never true).
  bool retrying() const noexcept { return with_retries_ != 0; }

  // A finished task's attempts, engines tried and dependencies; a task never held here ran
  // once, where the record says.
  void fill_metadata(MsgId id, TaskMetadata& m) const;
  // Drops the record of a finished task (purge_results); a task still to run keeps its own.
  void forget(MsgId id);

 private:
  SchedulerSink& sink_;
  std::unordered_map<MsgId, TaskInfo> tasks_;
  std::size_t live_ = 0;          // tasks of flagged batches not finished
  std::size_t with_retries_ = 0;  // ... of those, tasks whose job has retries
};

}  // namespace mpiply::detail
