#pragma once
// Rank 0's scheduler: told about engines (how many, their load, which were shut down), about
// load-balanced submissions with flags (TaskBatch: dependencies, targets, retries, timeout and a
// ResourceRequest) and about results (a task finished; a task raised and may run again), it
// answers which task goes where, through its SchedulerSink (scheduler_types.hpp):
//  - holds a submission until its `after` / `follow` dependencies are met (ipyparallel's
//    Dependency semantics), and fails it when that can no longer happen (ImpossibleDependency);
//  - places its tasks by the run's Scheme (schemes.hpp) on the engines they may use (the view's,
//    narrowed by `targets` and `follow`, in service, below hwm);
//  - re-queues a task that raised while it has `retries` left, never on an engine it already
//    failed on; when every engine it may use failed it, it fails (ImpossibleDependency);
//  - fails a task not placed before its `timeout` (DependencyTimeout), whether it waited for its
//    dependencies or for an engine.
//  - places a task with resource claims (cores, GPUs, memory, named) only where those amounts
//    are free, in priority order, holding one engine for the first such task that fits nowhere
//    (docs/resources.md), and takes the amounts back when it ends.
// Plain load-balanced tasks (no flags) do not come here while picker().plain_fast() holds: the
// owner keeps its own queue for them and takes picker().next_plain(), the engine index's O(1)
// least-loaded pick.
//
// It coordinates components, each a class in the file of its name, and delegates to them:
//   TaskRecords (task_records.hpp)  per task of a flagged submission: its job, engines tried
//   TaskPlacer  (task_placer.hpp)   the engines (index, picker, resource claims, team holds)
//                                   and where a released run's tasks go
//   ReadyQueue  (ready_queue.hpp)   released runs by priority, the bounded dispatch pass
//   Admission   (admission.hpp)     submissions before release: dependencies, timeouts
// Time is passed in (steady nanoseconds), so the unit tests drive it deterministically. Not
// thread-safe: the owner calls it under its lock.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/metadata.hpp>
#include <mpiply/run_options.hpp>

#include "scheduling/admission.hpp"
#include "scheduling/ready_queue.hpp"
#include "scheduling/scheduler_types.hpp"
#include "scheduling/task_placer.hpp"
#include "scheduling/task_records.hpp"

namespace mpiply::detail {

class Scheduler {
 public:
  Scheduler(SchedulerSink& sink, Scheme scheme);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // This scheduler's serial number (Dependency::run of its results), unique in the process.
  std::uint64_t run() const noexcept { return run_; }

  // Engines. n engines 0..n-1, in service at load 0, each taking up to hwm tasks and holding
  // one core and nothing else until set_resources says what it holds. With deep > hwm an
  // engine whose tasks run briefly may hold more, up to deep (window_policy.hpp).
  void reset_engines(std::size_t n, unsigned hwm, unsigned deep = 0) {
    placer_.reset(n, hwm, deep);
  }
  void set_resources(int e, const EngineResources& r) { placer_.set_resources(e, r); }
  // Engine e now holds `outstanding` tasks (the owner tells every send and every result).
  void set_load(int e, unsigned outstanding) {
    if (placer_.set_load(e, outstanding)) ready_.freed();
  }
  // A task of engine e ran ran_ns, by its result's stamps (negative: not known). Before the
  // result's set_load.
  void ran(int e, std::int64_t ran_ns) {
    if (placer_.ran(e, ran_ns)) ready_.freed();
  }
  // Client::shutdown(targets): they take no more tasks. Flagged tasks left without an engine
  // fail (ImpossibleDependency); plain ones are the owner's to fail
  // (placer().engines().any_in_service).
  void shut_down(const std::vector<int>& engines, std::int64_t now_ns);
  // What it knows of the engines: states, resources and reservation, team holds.
  const TaskPlacer& placer() const noexcept { return placer_; }
  // The picks of plain tasks (plain_fast, next_plain, pick_plain).
  EnginePicker& picker() noexcept { return placer_.picker(); }
  // What it keeps per task of a flagged submission (retrying, fill_metadata).
  const TaskRecords& tasks() const noexcept { return tasks_; }

  // Flagged tasks. admit keeps the batch and releases, places or fails what it can at once;
  // dispatch places released tasks engines have room for and fails those whose time is up.
  void admit(const TaskBatch& batch, std::int64_t now_ns) { admission_.admit(batch, now_ns); }
  void dispatch(std::int64_t now_ns);
  bool busy() const noexcept { return !ready_.empty() || admission_.timing(); }

  // Results. A task finished (any task: it may be a dependency).
  void on_finished(MsgId id, const TaskOutcome& o) {
    if (placer_.give_back(id)) ready_.freed();
    if (admission_.waiting() || tasks_.live()) admission_.task_done(id, o);
  }
  // Task id raised on engine e (error: its text). True if it is queued to run again (the owner
  // marks it queued and drops the result); false if this is its result. Never true while
  // !tasks().retrying().
  bool retry(MsgId id, int e, std::string_view error);

  // Every task held or waiting here fails as aborted (drain, client_main returned).
  void abort_all(const std::string& why);
  // Drops what it keeps about a finished task (purge_results).
  void forget(MsgId id) { tasks_.forget(id); }

 private:
  std::uint64_t run_;
  TaskRecords tasks_;
  TaskPlacer placer_;
  ReadyQueue ready_;
  Admission admission_;
};

}  // namespace mpiply::detail
