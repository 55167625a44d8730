#pragma once
// What MPIPLY_CAPTURE brings back with each task besides its result: the output it wrote, if
// any, and its resource use (docs/output.md), for metadata and AsyncResult's stdout/stderr. By
// task index (msg id - the task table's base), like the records. Output is kept only for tasks
// that wrote some, so a map of silent tasks adds no entry per task.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <mpiply/metadata.hpp>

#include "hub/usage_table.hpp"

namespace mpiply::detail {

class CaptureTable {
 public:
  struct TaskOutput {
    std::string out, err;
  };

  CaptureTable() = default;
  CaptureTable(const CaptureTable&) = delete;
  CaptureTable& operator=(const CaptureTable&) = delete;

  // Task i finished with its capture: the use the engine measured, and what it wrote. A task
  // that ran again (retries) keeps its last attempt's, so no output forgets an earlier one.
  void record(std::size_t i, std::int64_t user_ns, std::int64_t system_ns, std::int64_t max_rss,
              std::string_view out, std::string_view err);
  // Task i's output, or null when it wrote none (or nothing was captured).
  const TaskOutput* output(std::size_t i) const;
  std::optional<TaskUsage> usage(std::size_t i) const { return usage_.get(i); }
  // Task i's record left the hub (purged or culled): its output and use go too. Called at most
  // once per index.
  void release(std::size_t i);

 private:
  std::unordered_map<std::size_t, TaskOutput> outputs_;
  UsageTable usage_;
};

}  // namespace mpiply::detail
