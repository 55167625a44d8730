#pragma once
// The scheduler's vocabulary (scheduler.hpp): what it is told about a submission (TaskBatch and
// the ResourceRequest of its tasks), what it answers (Placement: the engines one task runs on),
// and the narrow interface through which it acts on its answers (SchedulerSink: rank 0's
// ClientCore in a job, a recorder in the unit tests). Nothing here knows about MPI or the client.
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

// What one task needs. The default, "one engine, nothing else", is every task today; the other
// fields are carried so that resource-aware packing and teams of engines can be built on this
// interface. This scheduler places default requests only (Scheduler::admit refuses the others).
struct ResourceRequest {
  std::uint32_t engines = 1;       // k: a team of k engines runs the task together
  std::uint32_t cores = 0;         // per engine; 0 = no claim beyond the engine itself
  std::uint32_t gpus = 0;          // per engine
  std::uint64_t memory_bytes = 0;  // per engine
  std::map<std::string, std::uint64_t> named;  // custom resources by name, per engine

  bool is_default() const noexcept {
    return engines == 1 && cores == 0 && gpus == 0 && memory_bytes == 0 && named.empty();
  }
  bool operator==(const ResourceRequest&) const = default;
};

// One answer: task `task` of a submission runs on these engines (one for a default request, the
// team's members in team-rank order otherwise), with this request.
struct Placement {
  boost::container::small_vector<int, 1> engines;
  const ResourceRequest* request = nullptr;  // the batch's, valid during SchedulerSink::place
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
