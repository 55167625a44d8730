// The reading side of the task database (task_db.hpp): resume lookups through the index of
// earlier runs, and the hub's reads (runs, history, one task, a query) over the writer's
// connection.
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "taskdb/checksum.hpp"
#include "taskdb/sqlite_util.hpp"
#include "taskdb/task_db.hpp"
#include "taskdb/task_db_query.hpp"
#include "taskdb/task_db_read.hpp"
#include "taskdb/task_db_schema.hpp"

namespace mpiply::detail {

std::optional<Reusable> TaskDb::lookup(std::string_view function, const ResumeKey& key,
                                       std::string_view code, bool any_build) {
  Refusal why = Refusal::none;
  std::optional<Reusable> out = fetch(function, key, code, any_build, why);
  std::lock_guard lk(mu_);
  if (out) ++reused_;
  switch (why) {
    case Refusal::checksum: ++refused_.checksum; break;
    case Refusal::truncated: ++refused_.truncated; break;
    case Refusal::build_changed: ++refused_.build_changed; break;
    case Refusal::none:
    case Refusal::missing: break;
  }
  return out;
}

std::optional<Reusable> TaskDb::fetch(std::string_view function, const ResumeKey& key,
                                      std::string_view code, bool any_build, Refusal& why) {
  why = Refusal::missing;
  if (index_.empty()) return std::nullopt;
  const IndexEntry* it = nullptr;
  std::size_t mask = slots_.size() - 1;
  for (std::size_t s = key.hi & mask; slots_[s] != 0; s = (s + 1) & mask) {
    if (index_[slots_[s] - 1].key == key) {
      it = &index_[slots_[s] - 1];
      break;
    }
  }
  if (!it || index_names_[it->function] != function) return std::nullopt;
  if (!any_build && index_names_[it->code] != code) {
    why = Refusal::build_changed;
    return std::nullopt;
  }
  Reusable out;
  {
    std::lock_guard db_lk(db_mu_);
    if (!db_) return std::nullopt;
    if (cached_block_ != it->block) {
      try {
        Stmt s(db_, "SELECT run, results FROM blocks WHERE id = ?");
        s.bind(1, it->block);
        if (!s.step()) return std::nullopt;
        cached_run_ = s.int64(0);
        cached_results_.assign(s.blob(1));
        cached_block_ = it->block;
      } catch (const std::exception& e) {
        rethrow_db_failure(path_, e, "reading a stored result");
      }
    }
    // A damaged row costs the tasks it holds (they run again), never the job.
    if (it->offset > cached_results_.size() || it->length > cached_results_.size() - it->offset) {
      why = Refusal::truncated;
      return std::nullopt;
    }
    std::string_view bytes(cached_results_.data() + it->offset, it->length);
    if (result_checksum(bytes) != it->sum) {
      why = Refusal::checksum;
      return std::nullopt;
    }
    out.run = cached_run_;
    out.result.assign(bytes);
  }
  out.msg_id = it->msg_id;
  out.items = it->items;
  why = Refusal::none;
  return out;
}

// The read side over the writer's connection: flushed first, then the connection is borrowed.
template <class F>
static auto read_locked(TaskDb& t, std::mutex& mu, sqlite3* db, const std::string& path,
                        const char* doing, F&& f) {
  t.flush();
  std::lock_guard lk(mu);
  if (!db) throw_db_error(path, "is closed", "Query it before close, or open a TaskDbReader");
  try {
    return f(db);
  } catch (const std::exception& e) {
    rethrow_db_failure(path, e, doing);
  }
}

std::vector<RunInfo> TaskDb::runs() {
  return read_locked(*this, db_mu_, db_, path_, "reading its runs", db_runs);
}
std::vector<MsgId> TaskDb::history(std::int64_t run) {
  return read_locked(*this, db_mu_, db_, path_, "reading its history",
                     [&](sqlite3* db) { return db_history(db, run); });
}
std::optional<StoredTask> TaskDb::get(std::int64_t run, MsgId msg_id) {
  return read_locked(*this, db_mu_, db_, path_, "reading a task",
                     [&](sqlite3* db) { return db_get(db, run, msg_id); });
}
void TaskDb::for_each(std::int64_t run, const std::function<void(const StoredTask&)>& fn) {
  read_locked(*this, db_mu_, db_, path_, "reading its tasks",
              [&](sqlite3* db) { db_for_each(db, run, fn); });
}

void TaskDb::query(const Query& q, std::int64_t exclude_run,
                   const std::function<void(const TaskMetadata&)>& fn, std::uint64_t* rows_read) {
  // Holds the connection for the scan: the writer thread commits after it (appends queue).
  std::lock_guard lk(db_mu_);
  if (!db_) throw_db_error(path_, "is closed", "Query it before close, or open a TaskDbReader");
  try {
    db_query_rows(db_, q, exclude_run, fn, rows_read);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    rethrow_db_failure(path_, e, "querying its tasks");
  }
}

std::optional<std::string> TaskDb::original_result(std::string_view function,
                                                   const ResumeKey& key, std::int64_t max_run) {
  Refusal why = Refusal::none;
  if (std::optional<Reusable> hit = fetch(function, key, {}, true, why))
    return std::move(hit->result);
  return read_locked(*this, db_mu_, db_, path_, "reading a stored result", [&](sqlite3* db) {
    return db_original_result(db, function, key, max_run);
  });
}

}  // namespace mpiply::detail
