#pragma once
// What rank 0 keeps about every task: enough for metadata, history and routing its result.
// Kept small (~80 bytes): a job may run millions of tasks.
#include <cstdint>
#include <memory>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply::detail {

struct TaskRecord {
  std::shared_ptr<ResultStateBase> state;  // released once the task finished
  std::uint64_t fn_id = 0;
  std::uint64_t first_item = 0;
  std::int64_t submitted = 0, started = 0, completed = 0, received = 0;
  std::int32_t engine = -1;
  std::uint32_t nitems = 0;
  TaskStatus status = TaskStatus::queued;
  std::uint16_t thread = 0;  // engine worker thread (at most 1024), fits in the padding
  std::uint8_t hub = 0;      // kValuesPurged | kRecordPurged, in the padding too
};

// TaskRecord::hub bits: the values were purged (purge_local_results), the record itself was
// purged from the hub (purge_hub_results: gone from hub_history, db_query, metadata).
inline constexpr std::uint8_t kValuesPurged = 1;
inline constexpr std::uint8_t kRecordPurged = 2;
// Not a hub bit: the result was reused from the task database (client_db.cpp), never sent.
inline constexpr std::uint8_t kReused = 4;

static_assert(sizeof(TaskRecord) <= 80, "TaskRecord grew: a job may hold millions of them");

}  // namespace mpiply::detail
