// The hub's queries over the task database (docs/database.md, "Reading earlier runs"): db_query
// adds earlier runs' records to this run's, hub_history(all_runs) lists every run's tasks,
// get_result(RecordId) reads a finished task of any run back from the file. This run's records
// come from memory (richer: attempts, output, dependencies; and purges apply), earlier runs'
// from the file. The file is read without the client lock, so results keep arriving meanwhile.
#include <algorithm>
#include <type_traits>

#include <fmt/format.h>

#include <mpiply/client.hpp>
#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/type_name.hpp>

#include "client/client_core.hpp"
#include "support/clock.hpp"

namespace mpiply {

using detail::TaskDb;

namespace {

std::shared_ptr<TaskDb> db_of(detail::ClientCore& core) {
  std::lock_guard lk(core.rank0().mu);
  return core.rank0().db.db_locked();
}

std::shared_ptr<TaskDb> need_db(detail::ClientCore& core, const char* what) {
  auto db = db_of(core);
  if (!db)
    throw UsageError(fmt::format("{}: the task database is off, and earlier runs are read from "
                                 "it; run with MPIPLY_DB=FILE (or RunOptions::db) to record and "
                                 "read them",
                                 what));
  return db;
}

// The C++ type of a registered function's values, from its signature "R(A...)": R, or None for
// void. "" when the name is not a registered function (a push, pull or clear records none).
std::string value_type_of(const std::string& function) {
  if (function.empty()) return {};
  const detail::FunctionEntry* e = detail::find_by_id(detail::hash_name(function));
  if (!e || e->name != function) return {};
  const std::string& sig = e->signature;
  if (sig.empty() || sig.back() != ')') return {};
  int depth = 0;
  for (std::size_t i = sig.size(); i-- > 0;) {
    if (sig[i] == ')') ++depth;
    else if (sig[i] == '(' && --depth == 0) {
      std::string r = sig.substr(0, i);
      return r == "void" ? detail::type_name<None>() : r;
    }
  }
  return {};
}

}  // namespace

namespace {

// This run's matching records from memory and, with the database on, earlier runs' from the
// file (earlier runs first, by run and msg id), each made into an Out by `make` as it is read,
// so a projection never holds whole records of the file.
template <class Out, class Make>
std::vector<Out> query_records(detail::ClientCore& core, const Query& q, Make make) {
  std::vector<TaskMetadata> mine;
  std::shared_ptr<TaskDb> db;
  bool culled = false;
  {
    std::lock_guard lk(core.rank0().mu);
    mine = core.rank0().hub.db_query_locked(q);
    db = core.rank0().db.db_locked();
    culled = core.rank0().cap.culled_locked() != 0;
  }
  std::vector<Out> out;
  // Earlier runs, and this run's tasks the hub's cap culled: this run's other rows are the
  // records above (memory has every one of them, the file only those committed, and a purge
  // removes them from the hub, not from the file).
  if (db) {
    std::vector<TaskMetadata> this_run;
    const std::int64_t run = db->run_id();
    if (culled) db->flush();  // a culled task's row may still wait in the batch
    db->query(q, culled ? 0 : run, [&](const TaskMetadata& m) {
      if (m.run == run) this_run.push_back(m);
      else out.push_back(make(m));
    });
    if (!this_run.empty()) {
      // One culled since `mine` was read is in both: `mine` (in msg id order) keeps it.
      auto in_mine = [&](MsgId id) {
        return std::binary_search(mine.begin(), mine.end(), id, [](const auto& a, const auto& b) {
          if constexpr (std::is_same_v<std::decay_t<decltype(a)>, MsgId>) return a < b.msg_id;
          else return a.msg_id < b;
        });
      };
      std::lock_guard lk(core.rank0().mu);
      const detail::TaskTable& table = core.rank0().table;
      for (TaskMetadata& m : this_run)
        if (m.msg_id >= table.base_locked() && m.msg_id < table.next_msg_locked() &&
            table.gone_locked(m.msg_id) == detail::Gone::culled && !in_mine(m.msg_id)) {
          m.run = run;
          out.push_back(make(std::move(m)));
        }
    }
    std::sort(out.begin(), out.end(), [](const Out& a, const Out& b) {
      return a.run != b.run ? a.run < b.run : a.msg_id < b.msg_id;
    });
  }
  out.reserve(out.size() + mine.size());
  for (TaskMetadata& m : mine) out.push_back(make(std::move(m)));
  return out;
}

}  // namespace

std::vector<TaskMetadata> Client::db_query(const Query& q) const {
  return query_records<TaskMetadata>(
      *core_, q, [](auto&& m) { return TaskMetadata(std::forward<decltype(m)>(m)); });
}

std::vector<DbRecord> Client::db_query(const Query& q,
                                       const std::vector<std::string>& keys) const {
  check_query_keys(keys);
  return query_records<DbRecord>(*core_, q,
                                 [&keys](const TaskMetadata& m) { return project(m, keys); });
}

std::int64_t Client::db_run() const {
  auto db = db_of(*core_);
  return db ? db->run_id() : 0;
}

std::vector<DbRun> Client::db_runs() const {
  auto db = need_db(*core_, "db_runs");
  std::vector<DbRun> out;
  for (const detail::RunInfo& r : db->reads().runs()) {
    DbRun d;
    d.id = r.id;
    d.started = detail::to_time_point(r.started);
    if (r.finished) d.finished = detail::to_time_point(r.finished);
    d.ranks = r.ranks;
    d.hostname = r.hostname;
    d.pid = static_cast<long>(r.pid);
    d.tasks = r.tasks;
    d.ok = r.ok;
    d.failed = r.failed;
    d.reused = r.reused;
    d.current = r.id == db->run_id();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<RecordId> Client::hub_history(AllRuns) const {
  auto db = need_db(*core_, "hub_history(mpiply::all_runs)");
  std::vector<RecordId> out;
  for (const detail::RunInfo& r : db->reads().runs()) {
    if (r.id == db->run_id()) continue;
    for (MsgId id : db->reads().history(r.id)) out.push_back({r.id, id});
  }
  // This run: the hub's tasks and, from the file, those its cap culled, in msg id order.
  std::vector<MsgId> file_ids;
  bool culled = false;
  {
    std::lock_guard lk(core_->rank0().mu);
    culled = core_->rank0().cap.culled_locked() != 0;
  }
  if (culled) file_ids = db->reads().history(db->run_id());  // flushes first
  std::lock_guard lk(core_->rank0().mu);
  const detail::TaskTable& table = core_->rank0().table;
  std::vector<MsgId> ids = table.hub_history_locked();
  for (MsgId id : file_ids)
    if (id >= table.base_locked() && id < table.next_msg_locked() &&
        table.gone_locked(id) == detail::Gone::culled)
      ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (MsgId id : ids) out.push_back({db->run_id(), id});
  return out;
}

DbResult Client::get_record(const RecordId& id) const {
  auto db = need_db(*core_, "get_result");
  std::vector<detail::RunInfo> runs = db->reads().runs();
  auto run = std::find_if(runs.begin(), runs.end(),
                          [&](const detail::RunInfo& r) { return r.id == id.run; });
  if (run == runs.end())
    throw UsageError(fmt::format("get_result: record {}: the task database '{}' holds no run {} "
                                 "(its runs are 1..{}, this one is {}); rc.db_runs() lists them",
                                 to_string(id), db->path(), id.run, runs.size(), db->run_id()));
  std::optional<detail::StoredTask> t = db->reads().get(id.run, id.msg_id);
  if (!t)
    throw UsageError(fmt::format(
        "get_result: record {}: run {} in the task database '{}' has no finished task with msg "
        "id {}{}; rc.hub_history(mpiply::all_runs) and rc.db_query list the recorded ones",
        to_string(id), id.run, db->path(), id.msg_id,
        id.run == db->run_id()
            ? " (this run: a task is in the file once it has finished; for one still running "
              "use get_result(msg_id))"
            : ""));
  auto d = std::make_shared<detail::DbRecordData>();
  d->id = id;
  d->meta = detail::to_metadata(*t, run->ranks);
  d->type = value_type_of(t->function);
  d->bytes = std::move(t->result);
  if (t->reused && d->bytes.empty()) {
    // A reused task's bytes stay with the record it reused: the latest successful one of the
    // same function and arguments before it.
    std::optional<std::string> orig = db->original_result(t->function, t->key, id.run);
    if (!orig)
      throw UsageError(fmt::format("get_result: record {} reused the result of an earlier task "
                                   "that the task database '{}' no longer holds",
                                   to_string(id), db->path()));
    d->bytes = std::move(*orig);
  }
  return DbResult(std::move(d));
}

}  // namespace mpiply
