#pragma once
// The scheduler's flagged submissions before they may run: admission (the engines a job may use,
// its retries, priority and deadline), its `after` / `follow` dependencies counted as tasks
// finish (ipyparallel's Dependency semantics), release into the ready queue when they hold, and
// failure when they never can (ImpossibleDependency) or when its timeout passes first
// (DependencyTimeout). A finished task counted here may fail a job, which finishes more tasks
// inside the count; DependencyWaits queues those so the count never re-enters itself.
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "scheduling/dependency_waits.hpp"
#include "scheduling/ready_queue.hpp"
#include "scheduling/scheduler_job.hpp"
#include "scheduling/task_placer.hpp"
#include "scheduling/task_records.hpp"

namespace mpiply::detail {

class Admission {
 public:
  Admission(SchedulerSink& sink, const TaskPlacer& placer, TaskRecords& tasks, ReadyQueue& ready)
      : sink_(sink), placer_(placer), tasks_(tasks), ready_(ready) {}
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Keeps the batch and releases, places or fails what it can at once.
  void admit(const TaskBatch& batch, std::int64_t now_ns);
  // Whether some job waits for a task to finish / has a deadline not yet passed.
  bool waiting() const noexcept { return !waits_.empty(); }
  bool timing() const noexcept { return !deadlines_.empty(); }
  // Task id finished (any task: it may be a dependency).
  void task_done(MsgId id, const TaskOutcome& o);
  // Fails jobs whose timeout passed before release; true if a released one expired (its
  // waiting runs fail at the ready queue's next pass).
  bool audit_timeouts(std::int64_t now_ns);
  // Every task held here or waiting in the ready queue fails as aborted; nothing waits after.
  void abort_all(const std::string& why);

 private:
  void evaluate(const std::shared_ptr<Job>& job);
  void release(const std::shared_ptr<Job>& job);

  using Deadline = std::pair<std::int64_t, std::shared_ptr<Job>>;
  struct Later {
    bool operator()(const Deadline& a, const Deadline& b) const { return a.first > b.first; }
  };

  SchedulerSink& sink_;
  const TaskPlacer& placer_;
  TaskRecords& tasks_;
  ReadyQueue& ready_;
  DependencyWaits waits_;
  std::vector<std::shared_ptr<Job>> held_;  // jobs admitted before release (some since gone)
  std::uint64_t seq_ = 0;
  std::priority_queue<Deadline, std::vector<Deadline>, Later> deadlines_;
};

}  // namespace mpiply::detail
