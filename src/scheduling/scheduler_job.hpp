#pragma once
// What the scheduler (scheduler.hpp) keeps per flagged submission: its dependencies as
// ipyparallel's Dependency evaluates them, where it may run, its deadline and retries, and
// per task the engines it was sent to. Plain data shared by the scheduler's components, and the
// one way each of them fails tasks it cannot place (fail_range).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scheduling/scheduler_types.hpp"

namespace mpiply::detail {

// One of a job's conditions (after or follow) and the outcomes counted against it so far.
struct DepState {
  std::vector<MsgId> ids;  // sorted, unique
  bool all = true, success = true, failure = false;
  std::uint32_t met = 0, bad = 0;
  std::vector<int> engines;  // follow: engines where met tasks ran

  bool empty() const noexcept { return ids.empty(); }
  bool satisfied() const noexcept { return empty() || (all ? met == ids.size() : met > 0); }
  bool impossible() const noexcept { return !empty() && (all ? bad > 0 : bad == ids.size()); }
  // Counts task id's outcome if this condition names it.
  void count(MsgId id, const TaskOutcome& o) {
    if (!std::binary_search(ids.begin(), ids.end(), id)) return;
    if (o.status == TaskStatus::ok ? success : failure) {
      ++met;
      if (o.engine >= 0 && std::find(engines.begin(), engines.end(), o.engine) == engines.end())
        engines.push_back(o.engine);
    } else {
      ++bad;
    }
  }
};

struct Job {
  std::shared_ptr<TaskSource> source;  // dropped once every task finished (it owns the inputs)
  MsgId first = 0;
  std::uint32_t ntasks = 0, unfinished = 0;
  DepState after, follow;
  ResourceRequest resources;
  int priority = 0;       // the flag: higher goes first among tasks that can run
  std::uint64_t seq = 0;  // admission order, which breaks ties of priority
  std::int64_t deadline_ns = 0;  // steady clock; 0 = waits as long as it takes
  double timeout_s = 0;          // the flag, for messages
  int retries = 0;
  std::vector<int> allowed;  // engines it may run on (sorted), narrowed at release
  bool every = false;        // ... which were all the engines in service then
  bool released = false, dead = false;
  bool expired = false;  // its deadline passed: tasks not placed when asked fail
};

struct TaskInfo {
  std::shared_ptr<Job> job;
  std::vector<int> tried;  // engines it was sent to, in order (a retried task failed there)
  std::string last_error;  // of its last failed attempt, when it is to be retried
};

// A run of tasks [next, end) of a job waiting to be placed.
struct ReadyRun {
  std::shared_ptr<Job> job;
  std::uint32_t next, end;
};

// Fails tasks [from, to) of job that are still queued (one aborted before is left alone); the
// whole job is dead from then on.
inline void fail_range(SchedulerSink& sink, Job& job, std::uint32_t from, std::uint32_t to,
                       ErrorKind kind, const std::string& why) {
  if (from == 0 && to == job.ntasks) job.dead = true;
  for (std::uint32_t t = from; t < to; ++t) {
    MsgId id = job.first + t;
    if (sink.outcome(id).status != TaskStatus::queued) continue;
    sink.fail(id, kind, why);
  }
}

}  // namespace mpiply::detail
