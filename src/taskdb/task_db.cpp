// The writing side of the task database: append packs rows on the caller's thread, a writer
// thread commits them; the resume index is loaded here (task_db.hpp). The reads are in
// task_db_lookup.cpp.
#include "taskdb/task_db.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include <sqlite3.h>

#include "taskdb/checksum.hpp"
#include "taskdb/sqlite_util.hpp"
#include "taskdb/staged_batch.hpp"
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
  std::unique_ptr<TaskDb> t(new TaskDb(path, db, options));
  t->checksums_ = checksums_on();
  try {
    t->load_index();
    Stmt s(db,
           "INSERT INTO runs(started_ns, ranks, hostname, pid, program) VALUES(?, ?, ?, ?, ?)");
    t->started_ns_ = now_ns();
    s.bind(1, t->started_ns_).bind(2, std::int64_t(options.ranks)).bind(3, host_name());
    s.bind(4, std::int64_t(::getpid())).bind(5, program.executable);
    s.step();
    t->run_ = sqlite3_last_insert_rowid(db);
  } catch (const std::exception& e) {
    rethrow_db_failure(path, e, "starting a run");  // ~TaskDb closes the connection
  }
  t->writer_ = std::thread([p = t.get()] { p->writer_loop(); });
  return t;
}

TaskDb::TaskDb(std::string path, sqlite3* db, TaskDbOptions opt)
    : path_(std::move(path)), db_(db), opt_(opt), cur_(std::make_unique<StagedBatch>()) {
  cur_->rows.reserve(opt_.batch_rows);
}

TaskDb::~TaskDb() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

void TaskDb::load_index() {
  // Only rows with successes are read, and only their strings and meta blobs. A row whose
  // checksum does not match, or that does not decode, costs its own tasks (they run again),
  // never the job.
  Stmt s(db_,
         "SELECT id, strings, meta, checksum, n_ok - n_reused FROM blocks "
         "WHERE n_ok > n_reused ORDER BY id");
  std::unordered_map<std::string, std::uint32_t> names;
  auto name_id = [&](std::string_view n) {
    auto [it, added] = names.try_emplace(std::string(n), std::uint32_t(index_names_.size()));
    if (added) index_names_.emplace_back(n);
    return it->second;
  };
  while (s.step()) {
    std::int64_t block = s.int64(0);
    auto ok_tasks = static_cast<std::uint64_t>(s.int64(4));
    RowCheck check = check_row(!s.null(3), s.int64(3), s.blob(1), s.blob(2));
    if (check == RowCheck::unchecked) {
      refused_.unchecked += ok_tasks;
      continue;
    }
    std::size_t before = index_.size();
    try {
      if (check == RowCheck::damaged) throw ValueDecodeError("checksum mismatch");
      decode_block(s.blob(1), s.blob(2), {},
                   [&](const TaskRow& r, std::uint64_t off, std::uint64_t len) {
                     if (r.status != TaskStatus::ok || r.reused) return;
                     index_.push_back({r.key, block, off, len, r.result_sum, r.msg_id,
                                       static_cast<std::uint32_t>(r.items),
                                       name_id(r.function), name_id(r.code)});
                   });
    } catch (const ValueDecodeError&) {
      index_.resize(before);
      refused_.damaged_rows += ok_tasks;
    }
  }
  index_.shrink_to_fit();
  if (index_.size() >= 0xffffffffu)
    throw_db_error(path_, "holds more successful tasks than one resume index can (2^32)",
                   "Pass another database path");
  std::size_t cap = 16;
  while (cap < index_.size() * 2) cap *= 2;
  slots_.assign(cap, 0);
  std::size_t mask = cap - 1;
  // Rows are read in commit order, so of equal keys (a task run again) the latest wins.
  for (std::size_t i = 0; i < index_.size(); ++i) {
    for (std::size_t s = index_[i].key.hi & mask;; s = (s + 1) & mask) {
      if (slots_[s] == 0) {
        slots_[s] = static_cast<std::uint32_t>(i + 1);
        ++distinct_;
        break;
      }
      if (index_[slots_[s] - 1].key == index_[i].key) {
        slots_[s] = static_cast<std::uint32_t>(i + 1);
        break;
      }
    }
  }
}

void TaskDb::seal_locked() {
  if (cur_->count() == 0) return;
  cur_->through = appended_;
  sealed_.push_back(std::move(cur_));
  if (!spare_.empty()) {
    cur_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    cur_ = std::make_unique<StagedBatch>();
    cur_->rows.reserve(opt_.batch_rows);
  }
}

void TaskDb::append(const TaskRow& row) {
  std::unique_lock lk(mu_);
  if (closed_)
    throw UsageError(fmt::format("mpiply: task database '{}': append after close (msg {})", path_,
                                 row.msg_id));
  ++appended_;
  if (!failure_.empty()) {  // the writer failed: results stay in memory, the database lacks them
    ++dropped_;
    return;
  }
  StagedBatch& b = *cur_;
  auto narrow = [](std::size_t n) {  // names and errors longer than 4 GiB are cut
    return static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xffffffffu));
  };
  // A name given as an id (TaskDb::name) is not copied: the writer finds it in names_.
  auto len = [&](std::uint32_t id, std::string_view v) { return id != 0 ? 0 : narrow(v.size()); };
  StagedRow s{row.msg_id,    row.key,       row.submitted,     row.started,
              row.completed, row.received,  row.pid,           row.items,
              row.result.size(), row.engine, row.thread,
              len(row.function_name, row.function), len(row.code_name, row.code),
              len(row.host_name, row.hostname), narrow(row.error.size()),
              row.function_name, row.code_name, row.host_name,
              row.status, row.reused};
  b.rows.push_back(s);
  if (std::size_t text = std::size_t(s.function_len) + s.code_len + s.hostname_len + s.error_len;
      text != 0) {
    char* t = b.text.grow(text);
    if (s.function_len) std::memcpy(t, row.function.data(), s.function_len);
    t += s.function_len;
    if (s.code_len) std::memcpy(t, row.code.data(), s.code_len);
    t += s.code_len;
    if (s.hostname_len) std::memcpy(t, row.hostname.data(), s.hostname_len);
    t += s.hostname_len;
    if (s.error_len) std::memcpy(t, row.error.data(), s.error_len);
  }
  b.results.append(row.result.data(), row.result.size());
  if (b.rows.size() >= opt_.batch_rows || b.results.size() >= opt_.batch_bytes) {
    seal_locked();
    wake_writer_.notify_one();
    // Back-pressure, so a writer slower than the results cannot grow memory without bound.
    committed_cv_.wait(lk, [&] {
      return sealed_.size() < opt_.max_pending_rows || !failure_.empty();
    });
  }
}

std::uint32_t TaskDb::name(std::string_view text) {
  std::lock_guard lk(mu_);
  if (auto it = name_ids_.find(text); it != name_ids_.end()) return it->second;
  if (names_.size() >= 0xfffffffeu)
    throw UsageError(fmt::format("mpiply: task database '{}': too many distinct names", path_));
  names_.push_back(std::make_unique<const std::string>(text));
  auto id = static_cast<std::uint32_t>(names_.size());
  name_ids_.emplace(*names_.back(), id);
  return id;
}

void TaskDb::writer_loop() {
  std::optional<Stmt> insert, update;
  std::vector<const std::string*> names;  // names_ as of the batches being packed
  std::unique_lock lk(mu_);
  auto due = SteadyClock::now() + opt_.batch_ms;
  for (;;) {
    wake_writer_.wait_until(lk, due, [&] { return stop_ || !sealed_.empty(); });
    if (SteadyClock::now() >= due || stop_) {
      // The time window: a partial batch is committed at most batch_ms after the last one.
      seal_locked();
      due = SteadyClock::now() + opt_.batch_ms;
    }
    if (sealed_.empty()) {
      if (stop_) break;
      continue;
    }
    std::vector<std::unique_ptr<StagedBatch>> work;
    work.swap(sealed_);
    names.clear();
    for (const auto& n : names_) names.push_back(n.get());
    lk.unlock();
    for (auto& w : work) w->pack(checksums_, names);  // varints and interned names, off the appending thread
    std::string failed;
    {
      std::lock_guard db_lk(db_mu_);
      try {
        if (!insert) {
          insert.emplace(db_,
                         "INSERT INTO blocks(run, min_msg, max_msg, count, n_ok, n_failed, "
                         "n_reused, strings, meta, checksum, results) "
                         "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
          update.emplace(db_,
                         "UPDATE runs SET tasks = tasks + ?, ok = ok + ?, failed = failed + ?, "
                         "reused = reused + ? WHERE id = ?");
        }
        sqlite_exec(db_, "BEGIN");
        std::uint64_t n = 0, ok = 0, bad = 0, reused = 0;
        for (const auto& w : work) {
          const BlockEncoder& b = w->packed;
          std::string strings = b.finish_strings();
          insert->bind(1, run_)
              .bind(2, static_cast<std::int64_t>(b.min_msg))
              .bind(3, static_cast<std::int64_t>(b.max_msg))
              .bind(4, static_cast<std::int64_t>(b.count))
              .bind(5, static_cast<std::int64_t>(b.n_ok))
              .bind(6, static_cast<std::int64_t>(b.n_failed))
              .bind(7, static_cast<std::int64_t>(b.n_reused))
              .bind_blob(8, strings)
              .bind_blob(9, {b.meta.data(), b.meta.size()})
              .bind_blob(11, {w->results.data(), w->results.size()});
          // Left NULL (unbound) when the bench knob turned checksums off: unverifiable rows.
          if (b.checksums)
            insert->bind(10, static_cast<std::int64_t>(
                                 row_checksum(strings, {b.meta.data(), b.meta.size()})));
          insert->step();
          insert->reset();
          n += b.count;
          ok += b.n_ok;
          bad += b.n_failed;
          reused += b.n_reused;
        }
        update->bind(1, std::int64_t(n)).bind(2, std::int64_t(ok)).bind(3, std::int64_t(bad));
        update->bind(4, std::int64_t(reused)).bind(5, run_);
        update->step();
        update->reset();
        sqlite_exec(db_, "COMMIT");
      } catch (const std::exception& e) {
        if (insert) insert->reset();
        if (update) update->reset();
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        failed = e.what();
        if (failed.empty()) failed = "unknown error";
      }
    }
    lk.lock();
    if (failed.empty()) {
      committed_ = work.back()->through;
      rows_ += work.size();
      ++transactions_;
    } else if (failure_.empty()) {
      std::uint64_t lost = 0;
      for (const auto& b : work) lost += b->count();
      for (const auto& b : sealed_) lost += b->count();
      lost += cur_->count();
      dropped_ += lost;
      failure_ = failed;
      sealed_.clear();
      cur_->clear();
    }
    for (auto& b : work) {
      if (spare_.size() >= 4) break;
      b->clear();
      spare_.push_back(std::move(b));
    }
    committed_cv_.notify_all();
  }
  insert.reset();
  update.reset();
}

void TaskDb::throw_failed_locked() {
  throw_db_error(path_,
                 fmt::format("could not be written ({}); {} task records are not in it", failure_,
                             dropped_),
                 "Results in memory are unaffected. Check the disk (space, permissions) and "
                 "run again");
}

void TaskDb::flush() {
  std::unique_lock lk(mu_);
  if (!failure_.empty()) throw_failed_locked();
  if (closed_ && !writer_.joinable()) return;
  seal_locked();
  std::uint64_t target = appended_;
  wake_writer_.notify_one();
  committed_cv_.wait(lk, [&] { return committed_ >= target || !failure_.empty(); });
  if (!failure_.empty()) throw_failed_locked();
}

bool TaskDb::wait_committed(std::uint64_t n, std::chrono::milliseconds bound) {
  std::unique_lock lk(mu_);
  return committed_cv_.wait_for(lk, bound, [&] { return committed_ >= n || !failure_.empty(); }) &&
         committed_ >= n;
}

void TaskDb::close() {
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::string failure;
  {
    std::lock_guard lk(mu_);
    failure = failure_;
  }
  std::string close_error;
  {
    std::lock_guard db_lk(db_mu_);
    try {
      Stmt s(db_, "UPDATE runs SET finished_ns = ? WHERE id = ?");
      s.bind(1, now_ns()).bind(2, run_);
      s.step();
    } catch (const std::exception& e) {
      if (failure.empty()) close_error = e.what();
    }
    // Copies the WAL into the database file and fsyncs it: after close the file stands alone.
    sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  std::lock_guard lk(mu_);
  if (!failure_.empty()) throw_failed_locked();
  if (!close_error.empty())
    throw_db_error(path_, fmt::format("could not record the end of the run: {}", close_error),
                   "Check the disk; the tasks written so far are in it");
}

std::size_t TaskDb::reusable() const { return distinct_; }

ReuseRefusals TaskDb::refusals() const {
  std::lock_guard lk(mu_);
  return refused_;
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
  std::lock_guard lk(mu_);
  return {appended_, committed_, rows_, transactions_, reused_};
}

}  // namespace mpiply::detail
