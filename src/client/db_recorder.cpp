// Rank 0's use of the task database (docs/database.md, "Integration"): every finished task is
// appended as its result is handled, and at dispatch a task an earlier run finished successfully
// is filled from its stored result bytes, through the same code as a live result, instead of
// being sent. Nothing here runs without MPIPLY_DB: each hook tests on() first (db_recorder.hpp).
#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/wire.hpp>

#include <mpiply/run.hpp>

#include "client/db_recorder.hpp"
#include "client/result_handler.hpp"
#include "support/clock.hpp"
#include "taskdb/resume_index.hpp"
#include "runtime/drain.hpp"
#include "wire/result_codec.hpp"

namespace mpiply::detail {

void DbRecorder::attach(std::shared_ptr<TaskDb> db, bool resume, bool any_build) {
  std::lock_guard lk(mu_);
  db_ = std::move(db);
  names_.reset(db_.get());  // the ids known so far were the previous database's
  resume_ = resume;
  any_build_ = any_build;
  // A drain keeps everything finished: flush the pending batch before the process ends. The
  // database is thread-safe on its own, so the watchdog may run this while rank 0 holds mu.
  on_drain([weak = std::weak_ptr<TaskDb>(db_)] {
    if (auto d = weak.lock()) d->flush();
  });
}

std::string DbRecorder::close() {
  std::shared_ptr<TaskDb> db;
  std::uint64_t reused = 0, malformed = 0;
  {
    std::lock_guard lk(mu_);
    db = std::move(db_);
    names_.reset(nullptr);
    reused = reused_;
    malformed = malformed_;
  }
  if (!db) return {};
  TaskDbStats st = db->stats();
  ReuseRefusals refused = db->resume().refusals();
  db->close();  // throws UsageError if the writer failed (disk full, ...): run() reports it
  std::string line = fmt::format(
      "mpiply: task database '{}': {} tasks recorded, {} reused from earlier runs", db->path(),
      st.appended, reused);
  if (std::string why = refused.describe(); !why.empty()) line += "; " + why;
  if (malformed)
    line += fmt::format("; {} stored results matched their checksum but did not decode as a "
                        "result and ran again",
                        malformed);
  return line;
}

int DbRecorder::exit_code(int code) {
  std::shared_ptr<TaskDb> db;
  {
    std::lock_guard lk(mu_);
    db = db_;
  }
  if (!db) return code;
  try {
    db->flush();
  } catch (const std::exception&) {
    // close_db prints the writer's error; the results in memory reached client_main anyway.
    return code == 0 ? kExitNotRecorded : code;
  }
  return code;
}

bool DbRecorder::reuse_locked(const std::shared_ptr<TaskSource>& src, TaskRecord& rec,
                                 MsgId id, std::span<const char> msg, ResumeKey& key) {
  if (msg.size() < sizeof(TaskHeader) || static_cast<Kind>(msg[0]) != Kind::call) return false;
  const RecordedNames::Function& fn = names_.function(src->fn_id);
  key = resume_key(fn.seed, task_arguments(msg));
  // A Reference argument is keyed by its name, not the value the engine holds under it; a
  // collective call must run on every engine; a task sent to a chosen engine (DirectView, an
  // engine's view) is about that engine, whose state the key does not see. None is reused.
  // A team member's value depends on its team, which the key does not see either.
  if (!resume_ || fn.collective || src->has_references || !src->targets.empty() || src->team ||
      db_->resume().reusable() == 0)
    return false;
  std::optional<Reusable> hit = db_->resume().lookup(fn.name, key, fn.code, any_build_);
  if (!hit || hit->items != rec.nitems) return false;
  ResultHeader h{};
  h.msg_id = id;
  h.nitems = rec.nitems;
  scratch_.clear();
  char* p = scratch_.grow(sizeof h + hit->result.size());
  std::memcpy(p, &h, sizeof h);
  std::memcpy(p + sizeof h, hit->result.data(), hit->result.size());
  ResultHeader checked{};
  if (!check_result(p, scratch_.size(), id, rec.nitems, checked).empty()) {
    // Stored as it arrived and intact, but not a result of this call: it runs again.
    ++malformed_;
    return false;
  }
  std::int64_t now = now_ns();
  rec.engine = -1;
  table_.records().set_received(rec, now);
  rec.hub |= kReused;
  ++reused_;
  results_.store_items_locked(rec, -1, id, Reader(p + sizeof h, scratch_.size() - sizeof h));
  TaskRow row;
  row.msg_id = id;
  row.function = fn.name;
  row.function_name = fn.name_id;
  row.key = key;
  row.code = fn.code;
  row.code_name = fn.code_id;
  row.status = rec.status;
  row.reused = true;
  row.submitted = table_.submissions().submission(id).submitted;
  row.received = now;
  row.items = rec.nitems;
  db_->append(row);
  return true;
}

void DbRecorder::append_locked(const TaskRecord& rec, MsgId id, const ResumeKey& key,
                                  std::span<const char> result, std::string_view error) {
  if (rec.hub & kReused) return;  // appended when it was filled
  TaskRow row;
  row.msg_id = id;
  const Submission& sub = table_.submissions().submission(id);
  std::uint64_t fn_id = sub.fn_id;
  const RecordedNames::Function& fn = names_.function(fn_id);
  // A push, pull, scatter... is recorded under its submission's name, as its metadata names it.
  if (fn_id != 0) {
    row.function = fn.name;
    row.function_name = fn.name_id;
  } else {
    row.function = table_.submissions().name(sub);
  }
  row.code = fn.code;
  row.code_name = fn.code_id;
  row.key = key;
  row.status = rec.status;
  TaskTimes t = table_.records().times(rec);
  row.submitted = sub.submitted;
  row.started = t.started;
  row.completed = t.completed;
  row.received = t.received;
  row.engine = rec.engine;
  row.thread = rec.thread;
  if (rec.engine >= 0) {
    const EngineInfo& info = roster_.engine_info(rec.engine);
    row.hostname = info.hostname;
    row.host_name = names_.host(rec.engine);
    row.pid = info.pid;
  }
  row.items = rec.nitems;
  std::string first_error;
  if (error.empty() && rec.status != TaskStatus::ok) {
    first_error = results_.first_error_locked(id);
    error = first_error;
  }
  row.error = error;
  row.result = result;
  db_->append(row);
}

}  // namespace mpiply::detail
