// The hub's questions and housekeeping on rank 0's task table: msg ids checked and resolved,
// results rebuilt from the kept values (get_result, results), metadata and db_query, queue
// status, purge, resubmit (hub_queries.hpp).
#include <algorithm>
#include <malloc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/query.hpp>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/hub_queries.hpp"

#include "client/db_recorder.hpp"
#include "client/result_handler.hpp"
#include "support/clock.hpp"
#include "wire/result_codec.hpp"

namespace mpiply::detail {

namespace {

// Runs chosen tasks of an earlier submission again, under new msg ids (rc.resubmit).
struct ResubmitSource : TaskSource {
  std::vector<std::shared_ptr<TaskSource>> origs;  // the earlier submission of each new task
  std::vector<std::uint32_t> tasks;  // its task index there
  std::vector<std::size_t> begins;   // first item of each new task

  std::size_t item_begin(std::uint32_t k) const override { return begins[k]; }
  std::uint32_t item_count(std::uint32_t k) const override {
    return origs[k]->item_count(tasks[k]);
  }
  std::span<const char> encode(std::uint32_t k, Bytes& scratch,
                               std::vector<Segment>& segments) override {
    std::span<const char> m = origs[k]->encode(tasks[k], scratch, segments);
    if (m.data() != scratch.data()) {
      scratch.clear();
      scratch.append(m.data(), m.size());
    }
    MsgId id = first_msg + k;
    std::memcpy(scratch.data() + offsetof(TaskHeader, msg_id), &id, sizeof id);
    return {scratch.data(), scratch.size()};
  }
};

// The source a kept call runs from again: the one the hub kept, or, for a call it archived
// (kept_calls.hpp), a source rebuilt from the archived message, engine and flags.
std::shared_ptr<TaskSource> kept_source(const SubmissionTable& subs, const Submission& sub) {
  if (auto src = subs.calls().source(sub.call)) return src;
  ArchivedCall c = subs.calls().archived(sub.call);
  auto f = std::make_shared<FixedSource>();
  f->msg.append(c.msg.data(), c.msg.size());
  f->fn_id = sub.fn_id;
  f->ntasks = 1;
  f->flags = subs.calls().flags(c.flags);
  f->has_references = c.has_references;
  if (c.target >= 0) f->targets.push_back(c.target);
  return f;
}

}  // namespace

const TaskRecord& HubQueries::known_record_locked(MsgId id, const char* what) const {
  if (id < table_.base_locked() || id >= table_.next_msg_locked())
    throw UsageError(fmt::format("{}: no task has msg id {} (this client's msg ids run from {} to "
                                 "{}); use ids from history() or AsyncResult::msg_ids()",
                                 what, id, table_.base_locked(),
                                 table_.next_msg_locked() == 0 ? 0 : table_.next_msg_locked() - 1));
  const TaskRecord& r = table_.record(id);
  if (r.hub & kRecordPurged) {
    if (table_.gone_locked(id) == Gone::culled)
      throw UsageError(fmt::format(
          "{}: msg id {} was culled from the hub by MPIPLY_HUB_KEEP={} (it keeps that many "
          "finished tasks and culls the oldest whose AsyncResult was dropped); {}",
          what, id, cap_.keep(),
          db_.on() ? fmt::format("the task database '{}' still has it: rc.get_result(mpiply::RecordId{{"
                            "{}, {}}}) reads it back, rc.db_query lists it",
                            db_.db_locked()->path(), db_.db_locked()->run_id(), id)
              : std::string("to keep it, hold its AsyncResult, raise MPIPLY_HUB_KEEP (or "
                            "RunOptions::hub_keep), or turn the task database on (MPIPLY_DB) "
                            "to read culled tasks back from the file")));
    throw UsageError(fmt::format("{}: msg id {} was purged from the hub (purge_hub_results / "
                                 "purge_results / purge_everything); its record and values are "
                                 "gone",
                                 what, id));
  }
  return r;
}

std::vector<MsgId> HubQueries::resolve_locked(const Jobs& jobs, const char* what) const {
  if (jobs.all()) return table_.hub_history_locked();
  std::vector<MsgId> out;
  for (MsgId id : jobs.ids()) {
    known_record_locked(id, what);
    out.push_back(id);
  }
  if (!jobs.history_positions().empty()) {
    auto h = table_.hub_history_locked();
    auto n = static_cast<long>(h.size());
    for (long i : jobs.history_positions()) {
      long k = i < 0 ? i + n : i;
      if (k < 0 || k >= n)
        throw UsageError(fmt::format("{}: history index {} is out of range: the history holds {} "
                                     "tasks (0..{}, or -1 for the latest)",
                                     what, i, n, n - 1));
      out.push_back(h[static_cast<std::size_t>(k)]);
    }
  }
  return out;
}

std::shared_ptr<ResultStateBase> HubQueries::hub_state_locked(
    const std::shared_ptr<ClientCore>& self, const std::vector<MsgId>& ids,
    const std::type_info* type, const char* what) {
  if (ids.empty())
    throw UsageError(fmt::format("{}: no msg ids given; pass ids, a result or mpiply::all", what));
  const Submission* first = nullptr;
  std::size_t nitems = 0;
  for (MsgId id : ids) {
    const TaskRecord& rec = known_record_locked(id, what);
    if ((rec.hub & kValuesPurged) && record_finished(rec))
      throw UsageError(fmt::format("{}: the values of msg id {} ('{}') were purged "
                                   "(purge_local_results / purge_results); its metadata is still "
                                   "in the hub",
                                   what, id,
                                   function_name(table_.submissions().submission(id).fn_id)));
    const SubmissionTable& subs = table_.submissions();
    const Submission& sub = subs.submission(id);
    const std::type_info* sub_type = subs.type(sub);
    if (type && sub_type && *sub_type != *type)
      throw UsageError(fmt::format("{}: msg id {} ('{}') holds values of type {}, not {}; ask for "
                                   "get_result<{}>",
                                   what, id, subs.name(sub), demangle(sub_type->name()),
                                   demangle(type->name()), demangle(sub_type->name())));
    if (first && subs.make(sub) != subs.make(*first))
      throw UsageError(fmt::format("{}: msg ids {} ('{}') and {} ('{}') come from different kinds "
                                   "of task (e.g. a pull and an apply); ask for them separately",
                                   what, ids.front(), subs.name(*first), id, subs.name(sub)));
    if (!first) first = &subs.submission(id);
    nitems += rec.nitems;
  }
  StateFactory make = table_.submissions().make(*first);
  if (!make)
    throw UsageError(fmt::format("{}: msg id {} was not submitted through a view", what,
                                 ids.front()));
  auto st = make(self, table_.submissions().name(*first), nitems);
  st->factory = make;
  st->owner = false;  // a hub handle reads the kept values; it does not take them (results())
  // elapsed() counts from the earliest submission, as the live handle's does: the wall-clock
  // stamps are carried over to the steady clock once, here.
  std::int64_t earliest = 0;
  for (MsgId id : ids)
    if (std::int64_t s = table_.submissions().submission(id).submitted;
        s && (!earliest || s < earliest))
      earliest = s;
  if (earliest) st->submitted_steady_ns = steady_ns() - (now_ns() - earliest);
  st->ntasks = static_cast<std::uint32_t>(ids.size());
  st->first_msg = ids.front();
  st->msg_list = ids;
  std::size_t base = 0;
  for (MsgId id : ids) {
    const TaskRecord& rec = table_.record(id);
    st->item_base.push_back(base);
    if (record_finished(rec))
      results_.replay_locked(st.get(), base, rec, id);
    else
      table_.submissions().follows().follow(id, {st, base});
    base += rec.nitems;
  }
  return st;
}

std::map<MsgId, StoredResult> HubQueries::results_locked(const std::shared_ptr<ClientCore>& self,
                                                         const std::vector<MsgId>& ids,
                                                         bool skip_taken) {
  std::map<MsgId, StoredResult> out;
  for (MsgId id : ids) {
    const TaskRecord& rec = table_.record(id);
    if (!record_finished(rec) || (rec.hub & (kValuesPurged | kRecordPurged))) continue;
    if (skip_taken && table_.submissions().follows().taken(id)) continue;
    const Submission& sub = table_.submissions().submission(id);
    const std::type_info* type = table_.submissions().type(sub);
    out.emplace(id, StoredResult(self, id, rec.status, table_.submissions().name(sub),
                                 type ? demangle(type->name()) : std::string(), rec.nitems));
  }
  return out;
}

QueueStatus HubQueries::queue_status_locked(const std::vector<int>& targets, bool verbose) const {
  QueueStatus q;
  std::vector<char> wanted(roster_.num_engines(), targets.empty() ? 1 : 0);
  for (int t : targets) {
    if (t < 0 || static_cast<std::size_t>(t) >= roster_.num_engines())
      throw UsageError(fmt::format("queue_status: engine {} does not exist (engines 0..{})", t,
                                   roster_.num_engines() - 1));
    wanted[static_cast<std::size_t>(t)] = 1;
  }
  for (std::size_t e = 0; e < roster_.num_engines(); ++e)
    if (wanted[e]) q.engines[static_cast<int>(e)];
  auto add = [&](std::size_t& n, std::vector<MsgId>& v, MsgId id) {
    ++n;
    if (verbose) v.push_back(id);
  };
  // Direct tasks waiting on rank 0 for their engine.
  std::vector<char> direct(table_.next_msg_locked() - table_.base_locked(), 0);
  for (std::size_t e = 0; e < links_.slots().size(); ++e)
    for (const auto& [src, t] : links_.slots()[e].direct) {
      MsgId id = src->first_msg + t;
      if (table_.record(id).status != TaskStatus::queued) continue;
      direct[id - table_.base_locked()] = 1;
      if (wanted[e]) add(q.engines[static_cast<int>(e)].queued, q.engines[static_cast<int>(e)].queued_ids, id);
    }
  for (MsgId id = table_.base_locked(); id < table_.next_msg_locked(); ++id) {
    const TaskRecord& r = table_.record(id);
    if (r.hub & kRecordPurged) continue;
    if (r.status == TaskStatus::queued) {
      if (!direct[id - table_.base_locked()]) add(q.unassigned, q.unassigned_ids, id);
      continue;
    }
    if (r.engine < 0 || !wanted[static_cast<std::size_t>(r.engine)]) continue;
    EngineQueue& eq = q.engines[r.engine];
    if (r.status == TaskStatus::sent)
      add(eq.on_engine, eq.on_engine_ids, id);
    else
      add(eq.completed, eq.completed_ids, id);
  }
  return q;
}

void HubQueries::purge_locked(const Jobs& jobs, const std::vector<int>& targets, bool local,
                              bool hub, const char* what) {
  if (jobs.empty() && targets.empty())
    throw UsageError(fmt::format("{}: say what to purge: msg ids, results, mpiply::all, or "
                                 "engine ids as targets",
                                 what));
  for (int t : targets)
    if (t < 0 || static_cast<std::size_t>(t) >= roster_.num_engines())
      throw UsageError(fmt::format("{}: engine {} does not exist (engines 0..{})", what, t,
                                   roster_.num_engines() - 1));
  std::vector<MsgId> ids;
  bool all = jobs.all();
  if (!jobs.empty()) {
    ids = resolve_locked(jobs, what);
    if (!all)
      for (MsgId id : ids)
        if (!record_finished(table_.record(id)))
          throw UsageError(fmt::format("{}: msg id {} is still {}; wait for it (or abort it) "
                                       "before purging it. Nothing was purged",
                                       what, id, to_string(table_.record(id).status)));
  }
  if (!targets.empty()) {
    // Every finished task that ran on these engines.
    for (MsgId id = table_.base_locked(); id < table_.next_msg_locked(); ++id) {
      const TaskRecord& r = table_.record(id);
      if (!(r.hub & kRecordPurged) && record_finished(r) &&
          std::find(targets.begin(), targets.end(), r.engine) != targets.end())
        ids.push_back(id);
    }
  }
  for (MsgId id : ids) {
    TaskRecord& r = table_.record(id);
    if (!record_finished(r)) continue;  // "all" leaves outstanding tasks alone
    if (r.hub & kRecordPurged) continue;  // named twice
    if ((local || hub) && !(r.hub & kValuesPurged)) {
      table_.store().drop(id - table_.base_locked());
      r.hub |= kValuesPurged;
      Submission& sub = table_.submissions().submission(id);
      if (--sub.kept == 0) table_.submissions().calls().drop(sub.call);
    }
    if (hub) cap_.release_record_locked(id, false);  // record, slot and what is kept beside it
  }
#ifdef __GLIBC__
  malloc_trim(0);  // freed values go back to the system, not only to malloc's free lists
#endif
}

std::shared_ptr<TaskSource> HubQueries::resubmit_source_locked(
    const std::shared_ptr<ClientCore>& self, const std::vector<MsgId>& ids,
    const std::type_info* type) {
  if (ids.empty()) throw UsageError("resubmit: no msg ids given");
  const SubmissionTable& subs = table_.submissions();
  auto src = std::make_shared<ResubmitSource>();
  std::size_t items = 0;
  const Submission* first = nullptr;
  std::shared_ptr<TaskSource> first_src;
  for (MsgId id : ids) {
    // A task still queued or running may run again too (ipyparallel allows it): its arguments
    // are kept until it is purged, and the new task is independent of the old one.
    const TaskRecord& rec = known_record_locked(id, "resubmit");
    const Submission& sub = subs.submission(id);
    if (sub.fn_id == 0)
      throw UsageError(fmt::format("resubmit: msg id {} is a '{}', not a function call; only "
                                   "calls can be resubmitted",
                                   id, subs.name(sub)));
    if (!subs.make(sub))
      throw UsageError(fmt::format("resubmit: msg id {} was not submitted through a view", id));
    if (!KeptCalls::held(sub.call))
      throw UsageError(fmt::format("resubmit: msg id {} ('{}') was purged, so its arguments are "
                                   "gone; submit it again from the view",
                                   id, subs.name(sub)));
    std::shared_ptr<TaskSource> orig = kept_source(subs, sub);
    if (first && (subs.make(*first) != subs.make(sub) || first->fn_id != sub.fn_id))
      throw UsageError(fmt::format("resubmit: msg ids {} ('{}') and {} ('{}') run different "
                                   "functions or kinds of task; resubmit them separately",
                                   ids.front(), subs.name(*first), id, subs.name(sub)));
    if (first && first_src->targets.empty() != orig->targets.empty())
      throw UsageError(fmt::format("resubmit: msg ids {} and {} mix load-balanced and direct "
                                   "tasks; resubmit them separately",
                                   ids.front(), id));
    const std::type_info* sub_type = subs.type(sub);
    if (type && sub_type && *sub_type != *type)
      throw UsageError(fmt::format("resubmit: msg id {} ('{}') gives values of type {}, not {}",
                                   id, subs.name(sub), demangle(sub_type->name()),
                                   demangle(type->name())));
    if (!first) {
      first = &sub;
      first_src = orig;
    }
    auto t = static_cast<std::uint32_t>(id - sub.first);
    if (!orig->targets.empty()) src->targets.push_back(orig->targets[t]);
    src->origs.push_back(std::move(orig));
    src->tasks.push_back(t);
    src->begins.push_back(items);
    items += rec.nitems;
  }
  const TaskSource& orig = *first_src;
  src->fn_id = orig.fn_id;
  src->ntasks = static_cast<std::uint32_t>(ids.size());
  src->candidates = orig.candidates;
  src->flags = orig.flags;
  src->flags.after.reset();  // the dependencies were met (or not) the first time
  src->flags.follow.reset();
  StateFactory make = subs.make(*first);
  auto st = make(self, subs.name(*first), items);
  st->factory = make;
  src->state = st;
  return src;
}

TaskMetadata HubQueries::metadata_locked(MsgId id) const {
  const TaskRecord& r = known_record_locked(id, "metadata");
  TaskMetadata m;
  m.msg_id = id;
  m.run = db_.on() ? db_.db_locked()->run_id() : 0;
  m.engine_id = r.engine;
  m.status = r.status;
  // A push, pull, scatter, gather or clear calls no registered function: it is named by what it
  // does (its submission's name).
  std::uint64_t fn = table_.submissions().submission(id).fn_id;
  m.function = fn != 0 ? function_name(fn)
                        : table_.submissions().name(table_.submissions().submission(id));
  m.items = r.nitems;
  auto tp = [](std::int64_t ns) -> std::optional<TimePoint> {
    if (ns == 0) return std::nullopt;
    return to_time_point(ns);
  };
  TaskTimes t = table_.records().times(r);
  m.submitted = tp(table_.submissions().submission(id).submitted);
  m.started = tp(t.started);
  m.completed = tp(t.completed);
  m.received = tp(t.received);
  if (r.engine >= 0) {
    const EngineInfo& info = roster_.engine_info(r.engine);
    m.rank = info.rank;
    m.hostname = info.hostname;
    m.pid = info.pid;
  }
  m.thread = r.thread;
  m.reused = (r.hub & kReused) != 0;
  sched_.tasks().fill_metadata(id, m);
  m.error = results_.first_error_locked(id);
  if (const CaptureTable::TaskOutput* out = table_.capture().output(id - table_.base_locked())) {
    m.stdout = out->out;
    m.stderr = out->err;
  }
  m.usage = table_.capture().usage(id - table_.base_locked());
  return m;
}

std::vector<TaskMetadata> HubQueries::db_query_locked(const Query& q) {
  std::vector<TaskMetadata> out;
  for (MsgId id = table_.base_locked(); id < table_.next_msg_locked(); ++id) {
    if (table_.record(id).hub & kRecordPurged) continue;
    TaskMetadata m = metadata_locked(id);
    if (matches(q, m)) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace mpiply::detail
