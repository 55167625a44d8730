#pragma once
// The durable task database (issue 10): rank 0 appends one record per finished task; a later run
// of the same program finds the tasks that already succeeded (resume) and tools read the history
// of a finished or crashed job. SQLite in WAL mode; append copies a record into a batch, and a
// writer thread packs each batch into one row and commits it. docs/database.md has the schema, the
// resume key, the batching and fsync policy, what a crash can lose, and where rank 0 calls this.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/errors.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/query.hpp>

#include "taskdb/resume_key.hpp"

struct sqlite3;

namespace mpiply::detail {

// On-disk format version (PRAGMA user_version); bumped on any incompatible change.
// 2: per-record result checksums and code identities, per-row checksums (docs/database.md).
inline constexpr int kTaskDbFormat = 2;

// Which program wrote a database: only the same program may append to or resume from it.
struct ProgramIdentity {
  std::string executable;      // file name of the executable (no directory)
  std::string functions_hash;  // 32 hex digits over every registered name and signature
  std::size_t functions = 0;   // how many were registered
  // This process: /proc/self/exe and the function registry (call after registration is done).
  static ProgramIdentity current();
};

// One task as appended: views into the caller's memory, copied before append returns.
struct TaskRow {
  MsgId msg_id = 0;
  std::string_view function;
  ResumeKey key;
  // The identity of the code that made the result: "build:<hex>" (the executable's build id) or
  // "version:<v>" (a version given at registration). Reuse requires it to match.
  std::string_view code;
  TaskStatus status = TaskStatus::ok;
  bool reused = false;  // this run took the result from an earlier run instead of running it
  std::int64_t submitted = 0, started = 0, completed = 0, received = 0;  // ns since epoch, 0 = none
  std::int32_t engine = -1;
  std::uint32_t thread = 0;
  std::string_view hostname;
  std::int64_t pid = 0;
  std::uint64_t items = 1;
  std::string_view error;  // "ename: evalue" of the first failing item
  // The result message after its ResultHeader (per item: u8 status, u32 length, bytes). Empty for
  // a reused task: its bytes stay with the original record.
  std::span<const char> result;
  // Decoding only: the checksum stored with the result bytes (the writer computes it).
  std::uint64_t result_sum = 0;
  // Appending only, optional: the same names as TaskDb::name() ids of the database appended to
  // (0: not given, the view is used). A caller that appends the same few names with every task
  // (rank 0) interns them once; append then copies no name, and packing compares none.
  std::uint32_t function_name = 0, code_name = 0, host_name = 0;
};

// One task as stored: plain values, for tools and the hub's db_query.
struct StoredTask {
  std::int64_t run = 0;  // the runs table's id of the run that appended it
  MsgId msg_id = 0;
  std::string function;
  ResumeKey key;
  std::string code;
  TaskStatus status = TaskStatus::ok;
  bool reused = false;
  std::int64_t submitted = 0, started = 0, completed = 0, received = 0;
  std::int32_t engine = -1;
  std::uint32_t thread = 0;
  std::string hostname;
  std::int64_t pid = 0;
  std::uint64_t items = 0;
  std::string error;
  std::string result;  // bytes, as appended

  TaskRow row() const;  // views into this, e.g. to copy it into another database
};

// The metadata a live AsyncResult would report for this task, as db_query and get_result give a
// record of an earlier run (run set, attempts -1: not recorded). ranks: the run's (RunInfo), for
// the engine's MPI rank; 0 = unknown (engine + 1).
TaskMetadata to_metadata(const StoredTask& t, int ranks = 0);

// Each run that opened the database for writing.
struct RunInfo {
  std::int64_t id = 0;
  std::int64_t started = 0, finished = 0;  // ns since epoch; finished 0: never closed (crashed)
  int ranks = 0;
  std::string hostname;
  std::int64_t pid = 0;
  std::string program;
  std::uint64_t tasks = 0, ok = 0, failed = 0, reused = 0;  // as committed
};

// A stored successful result found for a task about to be sent.
struct Reusable {
  std::int64_t run = 0;
  MsgId msg_id = 0;
  std::uint64_t items = 0;
  std::string result;  // the result message after its ResultHeader, as it arrived
};

struct TaskDbOptions {
  std::size_t batch_rows = 4096;              // tasks per packed row (one SQLite insert)
  std::size_t batch_bytes = std::size_t(1) << 20;  // or this many result bytes, whichever first
  std::chrono::milliseconds batch_ms{200};    // the writer commits a partial row after this long
  std::size_t max_pending_rows = 64;          // append waits when this many batches wait
  int ranks = 0;                              // recorded in the runs table
};

// Counters for tests, tools and the end-of-run summary.
struct TaskDbStats {
  std::uint64_t appended = 0;   // handed to append
  std::uint64_t committed = 0;  // of those, in a committed transaction
  std::uint64_t rows = 0;       // packed rows written
  std::uint64_t transactions = 0;
  std::uint64_t reused = 0;     // lookups that found a result
};

// Stored results of earlier runs that resume did not reuse although their key matched (or could
// not be read at all), by reason; the run prints them (docs/database.md, "Integrity").
struct ReuseRefusals {
  std::uint64_t damaged_rows = 0;  // tasks in rows whose checksum or encoding is wrong (at open)
  std::uint64_t unchecked = 0;     // tasks in rows written without checksums (bench knob)
  std::uint64_t checksum = 0;      // results whose bytes do not match their checksum
  std::uint64_t truncated = 0;     // results that lie past the end of their row
  std::uint64_t build_changed = 0; // made by another build of their function
  std::uint64_t damaged() const { return damaged_rows + unchecked + checksum + truncated; }
  // "" when nothing was refused; else one sentence with the counts and reasons.
  std::string describe() const;
};

// Read-only access to a database (the `dbinfo` job, a later run's queries). Refuses a database
// that another process holds open for writing. Methods are safe to call from one thread at a time.
class TaskDbReader {
 public:
  // A database a running job holds (its writer keeps the file locked) is read from a snapshot:
  // a copy of the file and its WAL in a temporary directory, removed again by the destructor
  // (task_db_snapshot.cpp).
  static std::unique_ptr<TaskDbReader> open(const std::string& path);
  ~TaskDbReader();
  TaskDbReader(const TaskDbReader&) = delete;
  TaskDbReader& operator=(const TaskDbReader&) = delete;

  std::vector<RunInfo> runs();
  // Msg ids of one run, in submission (msg id) order.
  std::vector<MsgId> history(std::int64_t run);
  std::optional<StoredTask> get(std::int64_t run, MsgId msg_id);
  // Every task of one run (run 0: of all runs), in the order they were committed.
  void for_each(std::int64_t run, const std::function<void(const StoredTask&)>& fn);
  std::string program();  // the identity recorded at creation, for messages
  // Every record matching q (db_query), streamed a row at a time (task_db_query.hpp).
  void query(const Query& q, const std::function<void(const TaskMetadata&)>& fn,
             std::uint64_t* rows_read = nullptr);
  // The values of a reused record: its original's result bytes (task_db_query.hpp).
  std::optional<std::string> original_result(std::string_view function, const ResumeKey& key,
                                             std::int64_t max_run);
  const std::string& path() const { return path_; }
  // Whether this reads a snapshot of a database in use (open()).
  bool snapshot() const { return !snapshot_dir_.empty(); }

 private:
  TaskDbReader(std::string path, sqlite3* db, std::string snapshot_dir = {});
  std::string path_;
  sqlite3* db_;
  std::string snapshot_dir_;
};

class NameTable;        // taskdb/name_table.hpp
class ResumeIndex;      // taskdb/resume_index.hpp
class SharedConnection; // taskdb/shared_connection.hpp
class BatchWriter;      // taskdb/batch_writer.hpp

class TaskDb;

// What an open database being written holds, read over its own connection (the writer holds the
// file exclusively, so a TaskDbReader cannot open it meanwhile): TaskDb::reads(). Each call
// flushes the appends first, so it sees every one.
class TaskDbReads {
 public:
  TaskDbReads(TaskDb& db, SharedConnection& conn) noexcept : db_(db), conn_(conn) {}
  std::vector<RunInfo> runs();
  std::vector<MsgId> history(std::int64_t run);
  std::optional<StoredTask> get(std::int64_t run, MsgId msg_id);
  void for_each(std::int64_t run, const std::function<void(const StoredTask&)>& fn);

 private:
  TaskDb& db_;
  SharedConnection& conn_;
};

// An open database being written: it coordinates the connection the writer thread, resume and
// the hub's reads share, the names appends refer to by id, resume's index of earlier runs and
// the writer, and delegates to them.
class TaskDb {
 public:
  // Creates the database or opens an existing one written by the same program and format;
  // anything else throws UsageError naming the file and the fix. Starts a new run.
  static std::unique_ptr<TaskDb> open(const std::string& path, const ProgramIdentity& program,
                                      TaskDbOptions options = {});
  ~TaskDb();  // close(); a failure is printed, never thrown
  TaskDb(const TaskDb&) = delete;
  TaskDb& operator=(const TaskDb&) = delete;

  // Cheap: copies the row into the pending batch (no SQLite, no names given as ids); waits only
  // when the writer is max_pending_rows batches behind. Never throws for a failed write (flush
  // does). Called by one thread at a time or several; rank 0 calls it under its client lock.
  void append(const TaskRow& row);
  // A name (function, code identity, host) interned for TaskRow::function_name / code_name /
  // host_name: the same text gives the same id (never 0) for this database's lifetime.
  std::uint32_t name(std::string_view text);
  // Returns once everything appended so far is committed (see docs/database.md for what that
  // promises). Throws UsageError if the writer failed; results in memory are unaffected.
  void flush();
  // Flushes, records the run's end, checkpoints the WAL and closes. Idempotent.
  void close();
  // True once at least n appended tasks are committed; false if `bound` passed first.
  bool wait_committed(std::uint64_t n, std::chrono::milliseconds bound);

  // Resume: stored results of earlier runs' successful tasks (tasks appended by this run are
  // not candidates), and what was refused (taskdb/resume_index.hpp).
  ResumeIndex& resume() noexcept { return *index_; }

  // The read side over this connection (TaskDbReads).
  TaskDbReads reads();
  // The hub's reads of earlier runs, which need no flush: records matching q of every run but
  // exclude_run (db_query), and a reused record's original result bytes (from the resume index
  // when it holds the key, else by scanning the rows up to max_run).
  void query(const Query& q, std::int64_t exclude_run,
             const std::function<void(const TaskMetadata&)>& fn,
             std::uint64_t* rows_read = nullptr);
  std::optional<std::string> original_result(std::string_view function, const ResumeKey& key,
                                             std::int64_t max_run);

  std::int64_t run_id() const { return run_; }
  const std::string& path() const;
  TaskDbStats stats() const;

 private:
  TaskDb(std::string path, sqlite3* db);

  std::unique_ptr<SharedConnection> conn_;
  std::unique_ptr<NameTable> names_;
  std::unique_ptr<ResumeIndex> index_;
  std::unique_ptr<BatchWriter> writer_;  // from once the run is recorded
  std::int64_t run_ = 0;
};

}  // namespace mpiply::detail
