// The task database being written (task_db.hpp): opening it and starting a run, the calls that
// go to its writer, names and resume index, the reads over its connection, and closing it.
#include "taskdb/task_db.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include <sqlite3.h>

#include "taskdb/batch_writer.hpp"
#include "taskdb/checksum.hpp"
#include "taskdb/name_table.hpp"
#include "taskdb/resume_index.hpp"
#include "taskdb/shared_connection.hpp"
#include "taskdb/sqlite_util.hpp"
#include "taskdb/task_db_query.hpp"
#include "taskdb/task_db_read.hpp"
#include "taskdb/task_db_schema.hpp"

namespace mpiply::detail {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             WallClock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

}  // namespace

std::unique_ptr<TaskDb> TaskDb::open(const std::string& path, const ProgramIdentity& program,
                                     TaskDbOptions options) {
  if (options.batch_rows == 0 || options.batch_rows > (std::size_t(1) << 20) ||
      options.batch_bytes == 0 || options.max_pending_rows == 0 || options.batch_ms.count() <= 0)
    throw UsageError(fmt::format(
        "mpiply: task database '{}': batch_rows must be 1 to 1048576 and batch_bytes, "
        "max_pending_rows and batch_ms positive (got {}, {}, {}, {} ms)",
        path, options.batch_rows, options.batch_bytes, options.max_pending_rows,
        options.batch_ms.count()));
  sqlite3* db = open_task_db(path, DbAccess::write, &program);
  std::unique_ptr<TaskDb> t(new TaskDb(path, db));
  try {
    t->index_->load();
    Stmt s(db,
           "INSERT INTO runs(started_ns, ranks, hostname, pid, program) VALUES(?, ?, ?, ?, ?)");
    s.bind(1, now_ns()).bind(2, std::int64_t(options.ranks)).bind(3, host_name());
    s.bind(4, std::int64_t(::getpid())).bind(5, program.executable);
    s.step();
    t->run_ = sqlite3_last_insert_rowid(db);
  } catch (const std::exception& e) {
    rethrow_db_failure(path, e, "starting a run");  // ~TaskDb closes the connection
  }
  t->writer_ = std::make_unique<BatchWriter>(t->path(), options, *t->conn_, *t->names_, t->run_,
                                             checksums_on());
  return t;
}

TaskDb::TaskDb(std::string path, sqlite3* db)
    : conn_(std::make_unique<SharedConnection>(std::move(path), db)),
      names_(std::make_unique<NameTable>(conn_->path())),
      index_(std::make_unique<ResumeIndex>(*conn_)) {}

TaskDb::~TaskDb() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

const std::string& TaskDb::path() const { return conn_->path(); }

void TaskDb::append(const TaskRow& row) { writer_->append(row); }

std::uint32_t TaskDb::name(std::string_view text) { return names_->intern(text); }

void TaskDb::flush() { writer_->flush(); }

bool TaskDb::wait_committed(std::uint64_t n, std::chrono::milliseconds bound) {
  return writer_->wait_committed(n, bound);
}

void TaskDb::close() {
  if (!conn_->handle()) return;  // closed already
  if (writer_) writer_->stop();
  std::string close_error;
  {
    auto lk = conn_->lock();
    try {
      Stmt s(conn_->handle(), "UPDATE runs SET finished_ns = ? WHERE id = ?");
      s.bind(1, now_ns()).bind(2, run_);
      s.step();
    } catch (const std::exception& e) {
      close_error = e.what();
    }
  }
  conn_->close();
  if (writer_) writer_->flush();  // after stop: throws only the writer's failure, if any
  if (!close_error.empty())
    throw_db_error(path(), fmt::format("could not record the end of the run: {}", close_error),
                   "Check the disk; the tasks written so far are in it");
}

TaskDbReads TaskDb::reads() { return TaskDbReads(*this, *conn_); }

std::vector<RunInfo> TaskDbReads::runs() {
  db_.flush();
  return conn_.read("reading its runs", db_runs);
}
std::vector<MsgId> TaskDbReads::history(std::int64_t run) {
  db_.flush();
  return conn_.read("reading its history", [&](sqlite3* db) { return db_history(db, run); });
}
std::optional<StoredTask> TaskDbReads::get(std::int64_t run, MsgId msg_id) {
  db_.flush();
  return conn_.read("reading a task", [&](sqlite3* db) { return db_get(db, run, msg_id); });
}
void TaskDbReads::for_each(std::int64_t run, const std::function<void(const StoredTask&)>& fn) {
  db_.flush();
  conn_.read("reading its tasks", [&](sqlite3* db) { db_for_each(db, run, fn); });
}

void TaskDb::query(const Query& q, std::int64_t exclude_run,
                   const std::function<void(const TaskMetadata&)>& fn, std::uint64_t* rows_read) {
  // Holds the connection for the scan: the writer thread commits after it (appends queue).
  conn_->read("querying its tasks",
              [&](sqlite3* db) { db_query_rows(db, q, exclude_run, fn, rows_read); });
}

std::optional<std::string> TaskDb::original_result(std::string_view function,
                                                   const ResumeKey& key, std::int64_t max_run) {
  if (std::optional<std::string> hit = index_->stored_result(function, key)) return hit;
  flush();
  return conn_->read("reading a stored result", [&](sqlite3* db) {
    return db_original_result(db, function, key, max_run);
  });
}

std::string ReuseRefusals::describe() const {
  std::vector<std::string> parts;
  if (checksum) parts.push_back(fmt::format("{} failed their checksum", checksum));
  if (truncated) parts.push_back(fmt::format("{} lay past the end of their row", truncated));
  if (damaged_rows)
    parts.push_back(fmt::format("{} were in rows whose checksum or encoding is wrong",
                                damaged_rows));
  if (unchecked)
    parts.push_back(fmt::format("{} were in rows written without checksums "
                                "(MPIPLY_BENCH_NO_CHECKSUM)",
                                unchecked));
  if (build_changed)
    parts.push_back(fmt::format("{} were made by another build of their function (the program "
                                "was rebuilt; MPIPLY_DB_REUSE=any-build reuses them anyway, "
                                "MPIPLY_REGISTER_VERSIONED keeps a function's results across "
                                "rebuilds)",
                                build_changed));
  if (parts.empty()) return {};
  return fmt::format("{} stored results refused, their tasks run again: {}",
                     damaged() + build_changed, fmt::join(parts, "; "));
}

TaskDbStats TaskDb::stats() const {
  TaskDbStats s = writer_->stats();
  s.reused = index_->reused();
  return s;
}

}  // namespace mpiply::detail
