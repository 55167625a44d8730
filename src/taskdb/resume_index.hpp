#pragma once
// Resume's index over the successful tasks of earlier runs in a TaskDb: built once at open from
// the rows' metadata, then asked for each task about to be sent whether a stored result can be
// used instead (docs/database.md, "Resume"). Results are read through the database's shared
// connection and checked against their checksums; every refusal is counted for the run's summary.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class SharedConnection;

class ResumeIndex {
 public:
  explicit ResumeIndex(SharedConnection& conn) : conn_(conn) {}
  ResumeIndex(const ResumeIndex&) = delete;
  ResumeIndex& operator=(const ResumeIndex&) = delete;

  // Reads every row with successes (at open, before this run appends anything). A damaged row
  // costs its own tasks (counted in refusals()), never the open.
  void load();
  // The stored result of a task of an earlier run with this function and key that succeeded, if
  // any. Only a result whose checksum matches is returned, and only one made by `code`
  // (TaskRow::code) unless any_build. Every candidate refused is counted in refusals().
  std::optional<Reusable> lookup(std::string_view function, const ResumeKey& key,
                                 std::string_view code = {}, bool any_build = false);
  // The result bytes of the indexed task with this function and key, of any build, counting
  // nothing (the hub showing a reused record's original values).
  std::optional<std::string> stored_result(std::string_view function, const ResumeKey& key);
  std::size_t reusable() const noexcept { return distinct_; }  // distinct keys
  ReuseRefusals refusals() const;
  std::uint64_t reused() const;  // lookups that found a result

 private:
  // One successful task: where its result lies in the blocks table, and what made it.
  struct Entry {
    ResumeKey key;
    std::int64_t block = 0;
    std::uint64_t offset = 0, length = 0;
    std::uint64_t sum = 0;  // the result's checksum
    MsgId msg_id = 0;
    std::uint32_t items = 0;
    std::uint32_t function = 0;  // into names_
    std::uint32_t code = 0;      // into names_
  };
  enum class Refusal { none, missing, checksum, truncated, build_changed };
  const Entry* find(const ResumeKey& key) const;
  std::optional<Reusable> fetch(std::string_view function, const ResumeKey& key,
                                std::string_view code, bool any_build, Refusal& why);

  SharedConnection& conn_;
  // The entries, and an open-addressing table of entry number + 1 (0 = empty) keyed by the
  // key's high word. Written only by load(), so lookups read them without a lock.
  std::vector<Entry> index_;
  std::vector<std::uint32_t> slots_;
  std::size_t distinct_ = 0;
  std::vector<std::string> names_;  // function names and code identities
  mutable std::mutex mu_;           // the two counters below
  ReuseRefusals refused_;
  std::uint64_t reused_ = 0;
  // Under the connection's lock: a row's results blob, read once for all the tasks it holds.
  std::int64_t cached_block_ = -1, cached_run_ = 0;
  std::string cached_results_;
};

}  // namespace mpiply::detail
