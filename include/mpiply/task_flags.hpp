#pragma once
// Flags that change how tasks are scheduled and run, as ipyparallel's view flags. Set them on a
// view (set_flags, or temp_flags for a scope) or for one call (with_flags returns a copy of the
// view). A field left empty takes the view's value, then the run's (RunOptions / MPIPLY_*).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
  // Resources (LoadBalancedView, docs/resources.md): what one task needs of the engine it runs
  // on. The scheduler places it only where these amounts are free, and they stay the task's
  // until it ends: cores (task_resources().cores tells it), GPUs (task_resources().gpus names
  // them), memory in bytes ({.memory = 8_GiB}, mpiply::literals) and named resources that
  // engines advertise (MPIPLY_RESOURCES). A request no engine can ever hold is a UsageError.
  std::optional<unsigned> cores{};
  std::optional<unsigned> gpus{};
  std::optional<std::uint64_t> memory{};
  std::map<std::string, std::uint64_t> resources{};  // empty: the view's
  // Among tasks that can run, a higher priority goes first (default 0); see docs/resources.md
  // for the rule that keeps a large task from waiting for ever.
  std::optional<int> priority{};
  // A team (LoadBalancedView::apply_team, docs/resources.md#teams): the task runs on this many
  // engines at once, each member seeing the others through mpiply::task_comm(). Unset or 1: one
  // engine. Only apply_team reads it; a plain apply or map with engines > 1 is a UsageError.
  std::optional<unsigned> engines{};
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
  if (over.cores) base.cores = over.cores;
  if (over.gpus) base.gpus = over.gpus;
  if (over.memory) base.memory = over.memory;
  if (!over.resources.empty()) base.resources = over.resources;
  if (over.priority) base.priority = over.priority;
  if (over.engines) base.engines = over.engines;
  return base;
}

}  // namespace mpiply
