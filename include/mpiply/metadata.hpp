#pragma once
// Per-task metadata, as ipyparallel's AsyncResult.metadata reports it, plus what MPI adds.
#include <optional>
#include <string>
#include <vector>

#include <mpiply/errors.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

enum class TaskStatus { queued, sent, ok, error, aborted };

const char* to_string(TaskStatus s) noexcept;

struct TaskMetadata {
  MsgId msg_id = 0;
  int engine_id = -1;  // -1 while not yet given to an engine
  TaskStatus status = TaskStatus::queued;
  std::string function;
  std::optional<TimePoint> submitted, started, completed, received;
  int rank = -1;  // MPI rank of the engine (engine_id + 1, or 0 when tasks run inline)
  std::string hostname;
  long pid = 0;
  int thread = 0;  // which of the engine's worker threads ran it (0 to MPIPLY_ENGINE_THREADS-1)
  std::size_t items = 0;  // map items carried by this task (1 for apply)
  std::string error;      // "ename: evalue" of the first failing item, empty if none
  // The result came from the task database (MPIPLY_DB) of an earlier run: the task was not sent
  // (engine_id -1); docs/database.md.
  bool reused = false;
  // LoadBalancedView flags: how many times the task was sent to an engine (more than 1 after
  // retries; 0 while it waits), the engines it was sent to in order, and its dependencies.
  int attempts = 0;
  std::vector<int> engines_tried;
  std::vector<MsgId> after, follow;
};

}  // namespace mpiply
