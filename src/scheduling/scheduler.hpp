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
//    are free (ResourcePool, best fit), in priority order, holding one engine for the first
//    such task that fits nowhere (docs/resources.md), and takes the amounts back when it ends.
// Plain load-balanced tasks (no flags) do not come here while plain_fast() holds: the owner
// keeps its own queue for them and takes next_plain(), the engine index's O(1) least-loaded pick.
// Time is passed in (steady nanoseconds), so the unit tests drive it deterministically. Not
// thread-safe: the owner calls it under its lock.
#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mpiply/metadata.hpp>
#include <mpiply/run_options.hpp>

#include "scheduling/dependency_waits.hpp"
#include "scheduling/engine_index.hpp"
#include "scheduling/resource_pool.hpp"
#include "scheduling/scheduler_job.hpp"
#include "scheduling/scheduler_types.hpp"
#include "scheduling/schemes.hpp"

namespace mpiply::detail {

class Scheduler {
 public:
  Scheduler(SchedulerSink& sink, Scheme scheme);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // This scheduler's serial number (Dependency::run of its results), unique in the process.
  std::uint64_t run() const noexcept { return run_; }

  // Engines. n engines 0..n-1, in service at load 0, each taking up to hwm tasks and holding
  // one core and nothing else until set_resources says what it holds.
  void reset_engines(std::size_t n, unsigned hwm);
  void set_resources(int e, const EngineResources& r) { pool_.set(e, r); }
  const ResourcePool& resources() const noexcept { return pool_; }
  // Why no engine of these (all when empty) can ever hold r, or "" if one can.
  std::string never_fits(const ResourceRequest& r, const std::vector<int>& engines) const;
  // The engine held for the first task that did not fit (docs/resources.md), or -1.
  int reserved_engine() const noexcept { return reserve_.engine; }
  // Engine e now holds `outstanding` tasks (the owner tells every send and every result).
  void set_load(int e, unsigned outstanding) {
    if (outstanding < index_.load(e)) ++freed_;
    index_.set_load(e, outstanding);
    if (outstanding == 0 && hold_.id != 0) hold_idle(e);
  }
  const EngineIndex& engines() const noexcept { return index_; }
  // Client::shutdown(targets): they take no more tasks. Flagged tasks left without an engine
  // fail (ImpossibleDependency); plain ones are the owner's to fail (any_in_service).
  void shut_down(const std::vector<int>& engines, std::int64_t now_ns);
  // Whether one of these engines (all engines when empty) is still in service.
  bool any_in_service(const std::vector<int>& engines) const;

  // Plain tasks. While plain_fast(), next_plain() is the engine for the next one (-1: none has
  // room); otherwise pick_plain asks the scheme, among candidates (all when empty).
  bool plain_fast() const noexcept { return fast_; }
  int next_plain() { return index_.least_round_robin(); }
  int pick_plain(const std::vector<int>& candidates);

  // Flagged tasks. admit keeps the batch and releases, places or fails what it can at once;
  // dispatch places released tasks engines have room for and fails those whose time is up.
  void admit(const TaskBatch& batch, std::int64_t now_ns);
  void dispatch(std::int64_t now_ns);
  bool busy() const noexcept { return !ready_.empty() || !deadlines_.empty(); }
  // Teams (scheduler_teams.cpp, docs/resources.md#teams): the first msg id of the team that
  // holds idle engines for itself while it waits (0: none), and the engines it holds.
  MsgId team_holder() const noexcept { return hold_.id; }
  const std::vector<int>& held_engines() const noexcept { return hold_.engines; }

  // Results. A task finished (any task: it may be a dependency).
  void on_finished(MsgId id, const TaskOutcome& o) {
    if (!grants_.empty()) give_back(id);
    if (!waits_.empty() || live_ != 0) task_done(id, o);
  }
  // Whether some task held here may run again (else retry is never true).
  bool retrying() const noexcept { return with_retries_ != 0; }
  // Task id raised on engine e (error: its text). True if it is queued to run again (the owner
  // marks it queued and drops the result); false if this is its result.
  bool retry(MsgId id, int e, std::string_view error);

  // Every task held or waiting here fails as aborted (drain, client_main returned).
  void abort_all(const std::string& why);
  void fill_metadata(MsgId id, TaskMetadata& m) const;
  // Drops what it keeps about a finished task (purge_results).
  void forget(MsgId id);

 private:
  void task_done(MsgId id, const TaskOutcome& o);
  void evaluate(const std::shared_ptr<Job>& job);
  void release(const std::shared_ptr<Job>& job);
  bool place(ReadyRun& r);
  bool place_team(ReadyRun& r);
  void hold_idle(int e);
  void end_hold();
  int pick_fitting(const Job& job, const TaskInfo& ti, MsgId id);
  void enqueue(ReadyRun r);
  void give_back(MsgId id);
  bool same_wait(const Job& later, const Job& stuck) const;
  // Fails jobs whose timeout passed before release; true if a released one expired.
  bool audit_timeouts(std::int64_t now_ns);
  void fail_range(Job& job, std::uint32_t from, std::uint32_t to, ErrorKind kind,
                  const std::string& why);

  SchedulerSink& sink_;
  std::uint64_t run_;
  EngineIndex index_;
  SchemePicker picker_;
  bool fast_ = true;
  DependencyWaits waits_;
  std::unordered_map<MsgId, TaskInfo> tasks_;  // every task of a flagged batch, for metadata
  std::size_t live_ = 0;                       // tasks of flagged batches not finished
  std::size_t with_retries_ = 0;               // ... of those, tasks whose job has retries
  std::vector<std::shared_ptr<Job>> held_;     // jobs admitted before release (some since gone)
  std::deque<ReadyRun> ready_;  // by priority (highest first), then in the order released
  // The most waiting runs one dispatch tries (dispatch says why).
  static constexpr std::size_t kBackfillWindow = 64;
  // Counts every load that went down and every grant given back: room that appeared. dispatch
  // skips a run like one that found no room while this stays the same (same_wait).
  std::uint64_t freed_ = 0;
  // A shut-down engine or a retry may leave a waiting run with nowhere to go: dispatch checks
  // every waiting run for that only after one of them.
  bool recheck_ = false;
  std::uint64_t seq_ = 0;
  ResourcePool pool_;
  struct Held {
    int engine;
    Grant grant;
    std::shared_ptr<Job> job;  // its request
  };
  std::unordered_map<MsgId, Held> grants_;  // tasks with claims, placed and not finished
  // The first task with claims that fit nowhere holds one engine it could fit on: tasks behind
  // it (lower priority, or equal and later) are not placed there until it goes, so a stream of
  // small tasks cannot keep it waiting for ever (docs/resources.md).
  struct Reservation {
    int engine = -1;
    MsgId id = 0;
    int priority = 0;
    std::uint64_t seq = 0;
  } reserve_;
  // The first team that found too few idle engines holds each engine it may use as it goes
  // idle, until it has k: one-engine tasks and other teams backfill only the rest. One holder at
  // a time, so two teams never each hold part of what they need.
  struct TeamHold {
    MsgId id = 0;
    std::shared_ptr<Job> job;
    std::vector<int> engines;
  } hold_;
  using Deadline = std::pair<std::int64_t, std::shared_ptr<Job>>;
  struct Later {
    bool operator()(const Deadline& a, const Deadline& b) const { return a.first > b.first; }
  };
  std::priority_queue<Deadline, std::vector<Deadline>, Later> deadlines_;
};

}  // namespace mpiply::detail
