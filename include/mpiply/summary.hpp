#pragma once
// Where the time went: per engine the tasks it ran and how busy it was, and the slowest tasks,
// computed from the public per-task metadata (AsyncResult::summary, Client::summary).
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include <mpiply/metadata.hpp>

namespace mpiply {

struct EngineSummary {
  int engine_id = -1;
  std::size_t tasks = 0;      // finished tasks that ran there
  std::size_t items = 0;      // map items they carried
  double busy_seconds = 0;    // sum of completed - started
  double busy_share = 0;      // busy_seconds / wall_seconds: how much of the run it was working
  double work_share = 0;      // busy_seconds / serial_seconds: its part of all the work
};

struct ResultSummary {
  std::size_t tasks = 0;      // tasks in the result
  std::size_t finished = 0;   // of them ran on an engine, with start and end stamps
  std::size_t reused = 0;     // of them reused from the task database (MPIPLY_DB): not run
  std::size_t failed = 0;     // status error or aborted
  std::size_t not_run = 0;    // of the failed, aborted (a drain, abort()): never ran
  std::size_t items = 0;
  // Earliest submitted to latest received, over the tasks that ran (reused ones took no time):
  // 0 when none ran.
  double wall_seconds = 0;
  double serial_seconds = 0;  // sum of busy_seconds over engines
  std::vector<EngineSummary> engines;        // in engine id order
  std::vector<TaskMetadata> slowest;         // longest completed - started first

  // A small table, as print() writes it.
  std::string to_string() const;
  void print(std::FILE* out = stdout) const;
};

// The summary of these tasks, keeping the `slowest` longest ones.
ResultSummary summarize(const std::vector<TaskMetadata>& tasks, std::size_t slowest = 5);

// The tasks as Chrome trace event JSON (Perfetto and chrome://tracing open it): one complete
// event ("ph":"X") per task that ran, on pid = engine id and tid = the engine's worker thread,
// with args msg_id, function, status, items; instant events on the client's track (pid = number
// of engines) for each task's submission and the arrival of its result. Times in microseconds
// from the earliest stamp. (src/hub/timeline.cpp)
std::string timeline_json(const std::vector<TaskMetadata>& tasks);
// Writes timeline_json(tasks) to path; Error naming the path if it cannot.
void write_timeline(const std::vector<TaskMetadata>& tasks, const std::string& path);

}  // namespace mpiply
