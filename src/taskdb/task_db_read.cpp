// Reading the task database: runs, history, single tasks and whole runs (task_db_read.hpp), and
// TaskDbReader, the read-only handle for tools.
#include "taskdb/task_db_read.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <sqlite3.h>

#include "taskdb/sqlite_util.hpp"
#include "taskdb/task_db_block.hpp"
#include "taskdb/task_db_query.hpp"
#include "taskdb/task_db_schema.hpp"
#include "taskdb/task_db_snapshot.hpp"

namespace mpiply::detail {

StoredTask to_stored(const TaskRow& r, std::int64_t run) {
  StoredTask t;
  t.run = run;
  t.msg_id = r.msg_id;
  t.function = r.function;
  t.key = r.key;
  t.code = r.code;
  t.status = r.status;
  t.reused = r.reused;
  t.submitted = r.submitted;
  t.started = r.started;
  t.completed = r.completed;
  t.received = r.received;
  t.engine = r.engine;
  t.thread = r.thread;
  t.hostname = r.hostname;
  t.pid = r.pid;
  t.items = r.items;
  t.error = r.error;
  t.result.assign(r.result.data(), r.result.size());
  return t;
}

TaskRow StoredTask::row() const {
  TaskRow r;
  r.msg_id = msg_id;
  r.function = function;
  r.key = key;
  r.code = code;
  r.status = status;
  r.reused = reused;
  r.submitted = submitted;
  r.started = started;
  r.completed = completed;
  r.received = received;
  r.engine = engine;
  r.thread = thread;
  r.hostname = hostname;
  r.pid = pid;
  r.items = items;
  r.error = error;
  r.result = {result.data(), result.size()};
  return r;
}

TaskMetadata to_metadata(const StoredTask& t, int ranks) {
  return row_metadata(t.row(), t.run, ranks);
}

std::vector<RunInfo> db_runs(sqlite3* db) {
  Stmt s(db,
         "SELECT id, started_ns, coalesce(finished_ns, 0), ranks, hostname, pid, program, tasks, "
         "ok, failed, reused FROM runs ORDER BY id");
  std::vector<RunInfo> out;
  while (s.step()) {
    RunInfo r;
    r.id = s.int64(0);
    r.started = s.int64(1);
    r.finished = s.int64(2);
    r.ranks = static_cast<int>(s.int64(3));
    r.hostname = s.text(4);
    r.pid = s.int64(5);
    r.program = s.text(6);
    r.tasks = static_cast<std::uint64_t>(s.int64(7));
    r.ok = static_cast<std::uint64_t>(s.int64(8));
    r.failed = static_cast<std::uint64_t>(s.int64(9));
    r.reused = static_cast<std::uint64_t>(s.int64(10));
    out.push_back(std::move(r));
  }
  return out;
}

void report_damaged_row(std::int64_t block, std::int64_t count, const char* doing) {
  std::fprintf(stderr,
               "mpiply: the task database's row %lld (%lld task records) fails its checksum; "
               "%s leaves its records out (a rerun runs those tasks again)\n",
               static_cast<long long>(block), static_cast<long long>(count), doing);
}

std::vector<MsgId> db_history(sqlite3* db, std::int64_t run) {
  Stmt s(db, "SELECT strings, meta, checksum, id, count FROM blocks WHERE run = ? ORDER BY id");
  s.bind(1, run);
  std::vector<MsgId> ids;
  while (s.step()) {
    if (check_row(!s.null(2), s.int64(2), s.blob(0), s.blob(1)) == RowCheck::damaged) {
      report_damaged_row(s.int64(3), s.int64(4), "hub_history");
      continue;
    }
    decode_block(s.blob(0), s.blob(1), {},
                 [&](const TaskRow& r, std::uint64_t, std::uint64_t) { ids.push_back(r.msg_id); });
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<StoredTask> db_get(sqlite3* db, std::int64_t run, MsgId msg_id) {
  // Results arrive out of order, so a row's msg ids are a range with gaps: look in every row
  // whose range covers the id (the index on (run, min_msg) bounds the scan).
  Stmt s(db,
         "SELECT strings, meta, results, checksum, id FROM blocks WHERE run = ? AND min_msg <= ? "
         "AND max_msg >= ? ORDER BY id");
  s.bind(1, run).bind(2, static_cast<std::int64_t>(msg_id)).bind(3, static_cast<std::int64_t>(msg_id));
  std::optional<StoredTask> found;
  std::string problem;  // a covering row that cannot be trusted
  while (!found && s.step()) {
    RowCheck check = check_row(!s.null(3), s.int64(3), s.blob(0), s.blob(1));
    if (check != RowCheck::ok) {
      problem = fmt::format("record {}:{} may lie in row {}, {}", run, msg_id, s.int64(4),
                            check == RowCheck::damaged
                                ? "whose checksum does not match (the file was changed or "
                                  "damaged on disk)"
                                : "which was written without checksums (MPIPLY_BENCH_NO_CHECKSUM)");
      continue;
    }
    decode_block(s.blob(0), s.blob(1), s.blob(2),
                 [&](const TaskRow& r, std::uint64_t, std::uint64_t) {
                   if (found || r.msg_id != msg_id) return;
                   if (!result_intact(r))
                     throw ValueDecodeError(fmt::format(
                         "the stored result of record {}:{} does not match its checksum (the "
                         "file was changed or damaged on disk); its value is not returned",
                         run, msg_id));
                   found = to_stored(r, run);
                 });
  }
  if (!found && !problem.empty()) throw ValueDecodeError(problem + "; its value is not returned");
  return found;
}

void db_for_each(sqlite3* db, std::int64_t run, const std::function<void(const StoredTask&)>& fn) {
  Stmt s(db,
         run == 0 ? "SELECT run, strings, meta, results, checksum, id FROM blocks WHERE ? = 0 "
                    "ORDER BY id"
                  : "SELECT run, strings, meta, results, checksum, id FROM blocks WHERE run = ? "
                    "ORDER BY id");
  s.bind(1, run);
  while (s.step()) {
    std::int64_t r = s.int64(0);
    RowCheck check = check_row(!s.null(4), s.int64(4), s.blob(1), s.blob(2));
    if (check == RowCheck::damaged)
      throw ValueDecodeError(fmt::format("row {}'s checksum does not match its records", s.int64(5)));
    decode_block(s.blob(1), s.blob(2), s.blob(3),
                 [&](const TaskRow& row, std::uint64_t, std::uint64_t) {
                   if (check == RowCheck::ok && !result_intact(row))
                     throw ValueDecodeError(fmt::format("the stored result of record {}:{} does not "
                                                   "match its checksum",
                                                   r, row.msg_id));
                   fn(to_stored(row, r));
                 });
  }
}

// ---- TaskDbReader

std::unique_ptr<TaskDbReader> TaskDbReader::open(const std::string& path) {
  if (!db_in_use(path)) {
    sqlite3* db = open_task_db(path, DbAccess::read, nullptr);
    return std::unique_ptr<TaskDbReader>(new TaskDbReader(path, db));
  }
  DbSnapshot snap = snapshot_db(path);
  try {
    sqlite3* db = open_task_db(snap.path, DbAccess::read, nullptr);
    return std::unique_ptr<TaskDbReader>(new TaskDbReader(path, db, snap.dir));
  } catch (...) {
    remove_snapshot(snap.dir);
    throw;
  }
}

TaskDbReader::TaskDbReader(std::string path, sqlite3* db, std::string snapshot_dir)
    : path_(std::move(path)), db_(db), snapshot_dir_(std::move(snapshot_dir)) {}
TaskDbReader::~TaskDbReader() {
  sqlite3_close(db_);
  if (!snapshot_dir_.empty()) remove_snapshot(snapshot_dir_);
}

namespace {
template <class F>
auto guarded(const std::string& path, const char* doing, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    rethrow_db_failure(path, e, doing);
  }
}
}  // namespace

std::vector<RunInfo> TaskDbReader::runs() {
  return guarded(path_, "reading its runs", [&] { return db_runs(db_); });
}
std::vector<MsgId> TaskDbReader::history(std::int64_t run) {
  return guarded(path_, "reading its history", [&] { return db_history(db_, run); });
}
std::optional<StoredTask> TaskDbReader::get(std::int64_t run, MsgId msg_id) {
  return guarded(path_, "reading a task", [&] { return db_get(db_, run, msg_id); });
}
void TaskDbReader::for_each(std::int64_t run, const std::function<void(const StoredTask&)>& fn) {
  guarded(path_, "reading its tasks", [&] { db_for_each(db_, run, fn); });
}
void TaskDbReader::query(const Query& q, const std::function<void(const TaskMetadata&)>& fn,
                         std::uint64_t* rows_read) {
  guarded(path_, "querying its tasks", [&] { db_query_rows(db_, q, 0, fn, rows_read); });
}
std::optional<std::string> TaskDbReader::original_result(std::string_view function,
                                                         const ResumeKey& key,
                                                         std::int64_t max_run) {
  return guarded(path_, "reading a stored result",
                 [&] { return db_original_result(db_, function, key, max_run); });
}
std::string TaskDbReader::program() {
  return guarded(path_, "reading its meta table", [&] {
    Stmt s(db_,
           "SELECT (SELECT value FROM meta WHERE key = 'executable') || ' (' || (SELECT value FROM "
           "meta WHERE key = 'functions') || ' functions, hash ' || (SELECT value FROM meta WHERE "
           "key = 'functions_hash') || ')'");
    return s.step() ? std::string(s.text(0)) : std::string();
  });
}

}  // namespace mpiply::detail
