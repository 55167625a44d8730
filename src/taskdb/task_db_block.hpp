#pragma once
// The packed row of the task database: many task records in three blobs. `strings` interns the
// function and host names (each once per row), `meta` holds each record as varints and deltas
// (~25 bytes for a typical task beside its 16-byte key), `results` concatenates the result bytes.
// Packing many tasks into one SQLite row is what keeps the database off the dispatch path: one
// row insert per task is slower than a chunksize-1 map (docs/benchmarks-log.md, last section).
// BlockEncoder (block_encoder.hpp) writes a row; this header reads one and checks it.
#include <cstdint>
#include <functional>
#include <string_view>

#include "taskdb/task_db.hpp"

namespace mpiply::detail {

// The status byte of a record in the meta blob: the TaskStatus, and this bit when the task was
// reused from an earlier run.
inline constexpr std::uint8_t kBlockReusedBit = 0x80;

// Calls fn for each record of a row, in the order appended. The row's views point into the
// blobs (and a scratch table of names); `result` is set only when `results` holds the blob
// (pass an empty view to skip it), while offset/length are always given. Throws ValueDecodeError
// on a malformed row. Checks no checksum: callers check the row's first (check_row) and a
// result's before using it (result_intact).
using BlockVisitor =
    std::function<void(const TaskRow& row, std::uint64_t result_offset, std::uint64_t result_len)>;
void decode_block(std::string_view strings, std::string_view meta, std::string_view results,
                  const BlockVisitor& fn);

// What a row's stored checksum (the `checksum` column; NULL when written with the bench knob
// MPIPLY_BENCH_NO_CHECKSUM) says about its strings and meta blobs.
enum class RowCheck { ok, unchecked, damaged };
RowCheck check_row(bool has_sum, std::int64_t sum, std::string_view strings,
                   std::string_view meta);
// Whether a decoded record's result bytes (row.result, set) match the checksum stored beside them.
bool result_intact(const TaskRow& row);

}  // namespace mpiply::detail
