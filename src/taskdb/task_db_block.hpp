#pragma once
// The packed row of the task database: many task records in three blobs. `strings` interns the
// function and host names (each once per row), `meta` holds each record as varints and deltas
// (~25 bytes for a typical task beside its 16-byte key), `results` concatenates the result bytes.
// Packing many tasks into one SQLite row is what keeps the database off the dispatch path: one
// row insert per task is slower than a chunksize-1 map (docs/benchmarks-log.md, last section).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/bytes.hpp>

#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class BlockEncoder {
 public:
  // copy_result false: the caller keeps the row's results blob itself (in append order); only
  // the length is recorded.
  void add(const TaskRow& row, bool copy_result = true);
  // The strings blob; call once, after the last add.
  std::string finish_strings() const;
  void clear();

  Bytes meta, results;
  bool checksums = true;  // false: each record's result checksum is written as 0 (bench knob)
  std::uint64_t count = 0, n_ok = 0, n_failed = 0, n_reused = 0;
  MsgId min_msg = 0, max_msg = 0;

 private:
  std::uint64_t intern(std::string_view s);
  std::uint64_t intern_host(std::int32_t engine, std::string_view host);
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::vector<std::string> table_;
  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> ids_;
  // Fast paths: most tasks share their function with the one before, and an engine's host
  // never changes (checked, not assumed).
  std::uint64_t last_fn_ = ~std::uint64_t(0), last_code_ = ~std::uint64_t(0);
  std::vector<std::uint64_t> host_of_engine_;  // string id + 1, 0 = none yet in this row
  // Names the rows give as TaskDb::name ids: string id + 1 by that id, 0 = none yet in this row.
  // No comparison at all: the id stands for the text.
  std::vector<std::uint64_t> by_name_;
  std::uint64_t intern_named(std::uint32_t name, std::string_view s) {
    if (name < by_name_.size() && by_name_[name] != 0) return by_name_[name] - 1;
    return intern_named_first(name, s);
  }
  std::uint64_t intern_named_first(std::uint32_t name, std::string_view s);  // once per row
  MsgId prev_msg_ = 0;
  std::int64_t prev_time_ = 0;
};

// Calls fn for each record of a row, in the order appended. The row's views point into the
// blobs (and a scratch table of names); `result` is set only when `results` holds the blob
// (pass an empty view to skip it), while offset/length are always given. Throws ValueDecodeError
// on a malformed row. Checks no checksum: callers check the row's first (row_intact) and a
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
