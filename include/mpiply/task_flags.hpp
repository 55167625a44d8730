#pragma once
// Flags that change how tasks are scheduled and run, as ipyparallel's view flags. Set them on a
// view (set_flags, or temp_flags for a scope) or for one call (with_flags returns a copy of the
// view). A field left empty takes the view's value, then the run's (RunOptions / MPIPLY_*).
#include <optional>
#include <vector>

#include <mpiply/dependency.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

struct TaskFlags {
  // Scheduling (LoadBalancedView): dependencies, retries (never on an engine that failed the
  // task), the longest wait on rank 0 for dependencies and for an engine (DependencyTimeout),
  // and the engines to balance over.
  std::optional<Dependency> after{};
  std::optional<Dependency> follow{};
  std::optional<int> retries{};
  std::optional<Seconds> timeout{};
  std::optional<std::vector<int>> targets{};
  // Running (every view): run the task in the engine's worker process, and its run-time limit
  // (TaskTimeout).
  std::optional<bool> isolate{};
  std::optional<Seconds> time_limit{};
};

// Fields set in `over` replace those of `base`.
inline TaskFlags merge_flags(TaskFlags base, const TaskFlags& over) {
  if (over.after) base.after = over.after;
  if (over.follow) base.follow = over.follow;
  if (over.retries) base.retries = over.retries;
  if (over.timeout) base.timeout = over.timeout;
  if (over.targets) base.targets = over.targets;
  if (over.isolate) base.isolate = over.isolate;
  if (over.time_limit) base.time_limit = over.time_limit;
  return base;
}

}  // namespace mpiply
