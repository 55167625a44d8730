#pragma once
// Per-task metadata, as ipyparallel's AsyncResult.metadata reports it, plus what MPI adds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <mpiply/errors.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

enum class TaskStatus : std::uint8_t { queued, sent, ok, error, aborted };

const char* to_string(TaskStatus s) noexcept;

// What a task used on its engine; recorded with its output (MPIPLY_CAPTURE, docs/output.md).
struct TaskUsage {
  // CPU seconds of the thread that ran the task (in an isolated task: its worker process's only
  // thread), from getrusage(RUSAGE_THREAD) readings around it, taken at most every ~200 us of a
  // busy thread: a shorter task reports its wall time as user time (docs/output.md, Cost).
  // Child processes it started are not counted.
  double user = 0, system = 0;
  // Bytes: the peak resident set size (ru_maxrss) of the process that ran the task, read at its
  // end. A high-water mark of the whole process since it started (the engine rank, or the
  // isolated worker forked from it), not of this task alone: it never goes down.
  std::int64_t max_rss = 0;
};

struct TaskMetadata {
  MsgId msg_id = 0;
  // The task database's id of the run that made the task (MPIPLY_DB; docs/database.md): msg ids
  // restart with each run, so a record of an earlier run is (run, msg_id). 0 when the database
  // is off.
  std::int64_t run = 0;
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
  // retries; 0 while it waits; -1 for a record of an earlier run read from the task database,
  // which does not keep it), the engines it was sent to in order, and its dependencies.
  int attempts = 0;
  std::vector<int> engines_tried;
  std::vector<MsgId> after, follow;
  // What the task wrote to its stdout and stderr, when captured (MPIPLY_CAPTURE=1 or
  // RunOptions::capture_output; empty otherwise), cut at MPIPLY_OUTPUT_CAP with a marker. Kept
  // for failed tasks too. (The names are glibc's stdio macros, which expand to themselves.)
  std::string stdout, stderr;
  std::optional<TaskUsage> usage;  // with capture only
};

}  // namespace mpiply
