#pragma once
// The scheduler's vocabulary (scheduler.hpp): what it is told about a submission (TaskBatch and
// the ResourceRequest of its tasks), what it answers (Placement: the engines one task runs on),
// and the narrow interface through which it acts on its answers (SchedulerSink: rank 0's
// ClientCore in a job, a recorder in the unit tests). Nothing here knows about MPI or the client.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include <boost/container/small_vector.hpp>

#include <mpiply/errors.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/task_flags.hpp>

namespace mpiply::detail {

struct TaskSource;  // the owner's description of a submission: the scheduler only hands it back

// What one task needs: a team of `engines` engines (team_placer.hpp) and, on each engine it
// runs on, amounts of its resources (ResourcePool).
struct ResourceRequest {
  std::uint32_t engines = 1;       // k: a team of k engines runs the task together
  std::uint32_t cores = 0;         // per engine; 0 = no claim beyond the engine itself
  std::uint32_t gpus = 0;          // per engine
  std::uint64_t memory_bytes = 0;  // per engine
  std::map<std::string, std::uint64_t> named;  // custom resources by name, per engine

  bool is_default() const noexcept { return engines == 1 && !has_claims(); }
  // Whether it takes any amount from an engine (such a task is placed by ResourcePool).
  bool has_claims() const noexcept {
    return cores != 0 || gpus != 0 || memory_bytes != 0 ||
           std::any_of(named.begin(), named.end(), [](const auto& kv) { return kv.second != 0; });
  }
  bool operator==(const ResourceRequest&) const = default;
};

// The request of a task with these flags.
inline ResourceRequest request_of(const TaskFlags& f) {
  ResourceRequest r;
  r.cores = f.cores.value_or(0);
  r.gpus = f.gpus.value_or(0);
  r.memory_bytes = f.memory.value_or(0);
  r.named = f.resources;
  r.engines = std::max(1u, f.engines.value_or(1));
  return r;
}

// What a task with claims was given on its engine: cores, and which of the engine's GPUs (bit
// i: the i-th id of its inventory). Stamped into the task's header (TaskHeader::cores, gpu_mask).
struct Grant {
  std::uint16_t cores = 0;
  std::uint32_t gpu_mask = 0;
};

// One answer: task `task` of a submission runs on these engines (one for a one-engine task, the
// team's members in team-rank order otherwise: member i is task `task + i`, msg id `id + i`),
// with this request and what it was given (the same on every member: each is idle when placed).
struct Placement {
  boost::container::small_vector<int, 1> engines;
  const ResourceRequest* request = nullptr;  // the batch's, valid during SchedulerSink::place
  Grant grant{};
};

// A submission the scheduler keeps: load-balanced tasks [first, first + ntasks) with flags.
// engines and flags are read during Scheduler::admit only.
struct TaskBatch {
  MsgId first = 0;
  std::uint32_t ntasks = 0;
  std::span<const int> engines;  // the view's engines, sorted; empty = every engine
  const TaskFlags& flags;        // after, follow, retries, timeout, targets
  ResourceRequest resources{};   // per task
  std::shared_ptr<TaskSource> source{};  // handed back with each placement
};

// What the scheduler needs to know of a task it does not hold (a dependency) or holds (whether
// it is still waiting to be placed).
struct TaskOutcome {
  TaskStatus status = TaskStatus::queued;
  int engine = -1;  // where it ran, -1 if nowhere
};

inline bool is_finished(TaskStatus s) noexcept {
  return s == TaskStatus::ok || s == TaskStatus::error || s == TaskStatus::aborted;
}

// How the scheduler's answers are carried out. Called with the owner's lock held, from inside
// Scheduler's functions; an implementation may call back into the Scheduler (set_load,
// on_finished), as a task run inline finishes inside place.
class SchedulerSink {
 public:
  // Send task `task` (msg id `id`) of `source` to where.engines.
  virtual void place(const std::shared_ptr<TaskSource>& source, MsgId id, std::uint32_t task,
                     const Placement& where) = 0;
  // Task id, still queued, never runs: fail it with an error of this kind (it finished).
  virtual void fail(MsgId id, ErrorKind kind, const std::string& why) = 0;
  // Where task id stands now.
  virtual TaskOutcome outcome(MsgId id) const = 0;

 protected:
  ~SchedulerSink() = default;
};

}  // namespace mpiply::detail
