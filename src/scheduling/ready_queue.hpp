#pragma once
// The scheduler's released runs waiting for an engine, by priority (highest first), then in the
// order released, and the dispatch pass over them. Runs that cannot go now wait in order behind
// the others, which still go: a task restricted to busy engines holds back nobody else.
//
// A pass is bounded: a run like one that just found no room (same_wait) is not tried again until
// room is freed, and one pass tries at most kBackfillWindow runs (as Slurm's backfill tests at
// most bf_max_job_test jobs), so a queue of many one-task submissions costs each result a
// bounded pass, not a scan of the whole queue. After a shut-down or a retry every waiting run is
// checked for an engine it may still use (recheck), and after a timeout flag passed every
// waiting run of an expired job fails (ipyparallel's TaskTimeout).
#include <cstddef>
#include <cstdint>
#include <deque>

#include "scheduling/scheduler_job.hpp"
#include "scheduling/task_placer.hpp"
#include "scheduling/task_records.hpp"

namespace mpiply::detail {

class ReadyQueue {
 public:
  ReadyQueue(SchedulerSink& sink, TaskPlacer& placer, const TaskRecords& tasks)
      : sink_(sink), placer_(placer), tasks_(tasks) {}
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;

  bool empty() const noexcept { return ready_.empty(); }
  // Behind the runs of its priority and above, ahead of the lower ones.
  void enqueue(ReadyRun r);
  // Room appeared (a load went down, a grant was given back).
  void freed() { ++freed_; }
  // An engine was shut down or a task will run again: the next pass checks every run.
  void recheck() { recheck_ = true; }
  // Places what engines have room for; `expiring`: some job's timeout passed since the last.
  void pass(bool expiring);
  // Every waiting run, leaving the queue empty (abort).
  std::deque<ReadyRun> take_all();

  // The most waiting runs one pass tries.
  static constexpr std::size_t kBackfillWindow = 64;

 private:
  static bool same_wait(const Job& later, const Job& stuck);
  // Back in front of the untried runs, in their order, each behind those of higher priority.
  void put_back(std::deque<ReadyRun>& rest);
  // The recheck (if asked) and the timeouts over every waiting run.
  void sweep(bool recheck);

  SchedulerSink& sink_;
  TaskPlacer& placer_;
  const TaskRecords& tasks_;  // read only: a run's next task may have no record
  std::deque<ReadyRun> ready_;
  // Counts every load that went down and every grant given back: room that appeared. A pass
  // skips a run like one that found no room while this stays the same (same_wait).
  std::uint64_t freed_ = 0;
  // A shut-down engine or a retry may leave a waiting run with nowhere to go: a pass checks
  // every waiting run for that only after one of them.
  bool recheck_ = false;
};

}  // namespace mpiply::detail
