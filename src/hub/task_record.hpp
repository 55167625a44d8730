#pragma once
// What rank 0 keeps about every task: enough for metadata, history and its kept result. Kept
// small (48 bytes, the kept result of up to 8 bytes included): a job may run millions of tasks.
// What every task of a submission shares (its result state, function, submission time) is kept
// once per submission (submission_table.hpp's Submission). Timestamps are exact to the ns: started
// in full, completed and received as 32-bit deltas, a task whose deltas do not fit (ran over
// ~2 s) keeps them in RecordTable's side table (record_table.hpp reads and writes them).
#include <cstdint>

#include <mpiply/metadata.hpp>

namespace mpiply::detail {

// Where a task's kept result bytes are (result_store.hpp): in the record itself (up to 8 bytes,
// or a single ok item of up to 8 bytes packed), in a shared 4 MiB block, or in an allocation of
// its own.
union KeptBytes {
  char bytes[8];
  struct {
    std::uint32_t block, offset;
  } shared;
  char* own;
};
static_assert(sizeof(KeptBytes) == 8);

struct TaskRecord {
  std::uint64_t first_item = 0;
  std::int64_t t0 = 0;  // started, or received when the task never started (kReceivedOnly)
  KeptBytes kept{};
  std::int32_t d_completed = 0;  // completed - started, or kWideTimes (side table)
  std::int32_t d_received = 0;   // received - completed
  std::uint32_t kept_len = 0;    // bytes of the kept result (before packing)
  std::int32_t engine = -1;
  std::uint32_t nitems = 0;
  TaskStatus status = TaskStatus::queued;
  std::uint8_t hub = 0;      // the bits below
  std::uint16_t thread = 0;  // engine worker thread (at most 1024)
};

// TaskRecord::hub bits: the values were purged (purge_local_results), the record itself was
// purged from the hub (purge_hub_results: gone from hub_history, db_query, metadata).
inline constexpr std::uint8_t kValuesPurged = 1;
inline constexpr std::uint8_t kRecordPurged = 2;
// Not hub bits: the result was reused from the task database (client/db_recorder.cpp), never sent; the
// task finished and gave its share of the submission's result state back (submission_table.hpp);
// only `received` is set (t0 holds it: the task failed on rank 0 without starting); the kept
// result is a single ok item of up to 8 bytes, kept as those bytes.
inline constexpr std::uint8_t kReused = 4;
inline constexpr std::uint8_t kStateTaken = 8;
inline constexpr std::uint8_t kReceivedOnly = 16;
inline constexpr std::uint8_t kKeptPacked = 32;
// The kept result lies inside a receive buffer the result store took whole (ResultStore::adopt).
inline constexpr std::uint8_t kKeptAdopted = 64;
// With kRecordPurged: the record was culled by the hub's cap (MPIPLY_HUB_KEEP), not purged by
// the user; msg id lookups say so (record_table.hpp keeps this for freed blocks too).
inline constexpr std::uint8_t kCulled = 128;

inline constexpr std::int32_t kWideTimes = INT32_MIN;

// The task's outcome is in: neither waiting on rank 0 nor running on an engine.
inline bool record_finished(const TaskRecord& r) {
  return r.status != TaskStatus::queued && r.status != TaskStatus::sent;
}

static_assert(sizeof(TaskRecord) == 48, "TaskRecord grew: a job may hold millions of them");

}  // namespace mpiply::detail
