// The hub's questions and housekeeping on rank 0's task table: msg ids checked and resolved,
// results rebuilt from the kept values (get_result, results), queue status, purge, resubmit.
#include <algorithm>
#include <malloc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
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

}  // namespace

const TaskRecord& ClientCore::known_record_locked(MsgId id, const char* what) const {
  if (id < base_ || id >= next_msg_locked())
    throw UsageError(fmt::format("{}: no task has msg id {} (this client's msg ids run from {} to "
                                 "{}); use ids from history() or AsyncResult::msg_ids()",
                                 what, id, base_, next_msg_locked() == 0 ? 0 : next_msg_locked() - 1));
  const TaskRecord& r = record(id);
  if (r.hub & kRecordPurged) {
    if (gone_locked(id) == Gone::culled)
      throw UsageError(fmt::format(
          "{}: msg id {} was culled from the hub by MPIPLY_HUB_KEEP={} (it keeps that many "
          "finished tasks and culls the oldest whose AsyncResult was dropped); {}",
          what, id, hub_keep_,
          db_ ? fmt::format("the task database '{}' still has it: rc.get_result(mpiply::RecordId{{"
                            "{}, {}}}) reads it back, rc.db_query lists it",
                            db_->path(), db_->run_id(), id)
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

std::vector<MsgId> ClientCore::hub_history_locked() const {
  std::vector<MsgId> out;
  for (MsgId id = base_; id < next_msg_locked(); ++id)
    if (!(record(id).hub & kRecordPurged)) out.push_back(id);
  return out;
}

std::vector<MsgId> ClientCore::outstanding_locked() const {
  std::vector<MsgId> out;
  for (MsgId id = base_; id < next_msg_locked(); ++id)
    if (!finished(record(id))) out.push_back(id);
  return out;
}

std::vector<MsgId> ClientCore::resolve_locked(const Jobs& jobs, const char* what) const {
  if (jobs.all()) return hub_history_locked();
  std::vector<MsgId> out;
  for (MsgId id : jobs.ids()) {
    known_record_locked(id, what);
    out.push_back(id);
  }
  if (!jobs.history_positions().empty()) {
    auto h = hub_history_locked();
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

void ClientCore::replay_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec,
                               MsgId id) {
  ResultStore::Unpacked buf;
  std::string_view slot = store_.bytes(id - base_, buf);
  if (!slot.empty() && slot[0] == kRankZeroFailure) {
    auto kind = static_cast<ErrorKind>(slot.size() > 1 ? slot[1] : 0);
    std::string text = kind == ErrorKind::aborted ? kAbortedQueuedText
                                                  : std::string(slot.substr(2));
    if (!st) return;
    for (std::uint32_t i = 0; i < rec.nitems; ++i)
      st->item_failed(base + i, RemoteError(rec.engine, engine_host(rec.engine), st->fname, id,
                                            error_type_name(kind), text, kind));
    return;
  }
  deliver_items_locked(st, base, rec, id, Reader(slot.data(), slot.size()));
}

std::string ClientCore::first_error_locked(MsgId id) const {
  const TaskRecord& rec = record(id);
  if (rec.status != TaskStatus::error && rec.status != TaskStatus::aborted) return {};
  if (rec.hub & kValuesPurged) return {};
  ResultStore::Unpacked buf;
  std::string_view slot = store_.bytes(id - base_, buf);
  if (!slot.empty() && slot[0] == kRankZeroFailure) {
    auto kind = static_cast<ErrorKind>(slot.size() > 1 ? slot[1] : 0);
    return fmt::format("{}: {}", error_type_name(kind),
                       kind == ErrorKind::aborted ? std::string(kAbortedQueuedText)
                                                  : std::string(slot.substr(2)));
  }
  try {
    Reader r(slot.data(), slot.size());
    for (std::uint32_t i = 0; i < rec.nitems; ++i) {
      auto status = static_cast<ItemStatus>(r.u8());
      Reader item = r.sub(r.u32());
      if (status == ItemStatus::ok) continue;
      ErrorItem err = read_error_item(item);
      return fmt::format("{}: {}", err.ename, err.evalue);
    }
  } catch (const std::exception&) {
  }
  return "mpiply::MessageDecodeError: the result did not decode";
}

std::shared_ptr<ResultStateBase> ClientCore::hub_state_locked(
    const std::shared_ptr<ClientCore>& self, const std::vector<MsgId>& ids,
    const std::type_info* type, const char* what) {
  if (ids.empty())
    throw UsageError(fmt::format("{}: no msg ids given; pass ids, a result or mpiply::all", what));
  const Submission* first = nullptr;
  std::size_t nitems = 0;
  for (MsgId id : ids) {
    const TaskRecord& rec = known_record_locked(id, what);
    if ((rec.hub & kValuesPurged) && finished(rec))
      throw UsageError(fmt::format("{}: the values of msg id {} ('{}') were purged "
                                   "(purge_local_results / purge_results); its metadata is still "
                                   "in the hub",
                                   what, id, function_name(fn_id_locked(id))));
    Submission& sub = store_.submission(id);
    if (type && sub.type && *sub.type != *type)
      throw UsageError(fmt::format("{}: msg id {} ('{}') holds values of type {}, not {}; ask for "
                                   "get_result<{}>",
                                   what, id, sub.fname, demangle(sub.type->name()),
                                   demangle(type->name()), demangle(sub.type->name())));
    if (first && sub.make != first->make)
      throw UsageError(fmt::format("{}: msg ids {} ('{}') and {} ('{}') come from different kinds "
                                   "of task (e.g. a pull and an apply); ask for them separately",
                                   what, ids.front(), first->fname, id, sub.fname));
    if (!first) first = &store_.submission(id);
    nitems += rec.nitems;
  }
  if (!first->make)
    throw UsageError(fmt::format("{}: msg id {} was not submitted through a view", what,
                                 ids.front()));
  auto st = first->make(self, first->fname, nitems);
  st->factory = first->make;
  st->owner = false;  // a hub handle reads the kept values; it does not take them (results())
  // elapsed() counts from the earliest submission, as the live handle's does: the wall-clock
  // stamps are carried over to the steady clock once, here.
  std::int64_t earliest = 0;
  for (MsgId id : ids)
    if (std::int64_t s = submitted_locked(id); s && (!earliest || s < earliest)) earliest = s;
  if (earliest) st->submitted_steady_ns = steady_ns() - (now_ns() - earliest);
  st->ntasks = static_cast<std::uint32_t>(ids.size());
  st->first_msg = ids.front();
  st->msg_list = ids;
  std::size_t base = 0;
  for (MsgId id : ids) {
    const TaskRecord& rec = record(id);
    st->item_base.push_back(base);
    if (finished(rec))
      replay_locked(st.get(), base, rec, id);
    else
      store_.follow(id, {st, base});
    base += rec.nitems;
  }
  return st;
}

std::map<MsgId, StoredResult> ClientCore::results_locked(const std::shared_ptr<ClientCore>& self,
                                                         const std::vector<MsgId>& ids,
                                                         bool skip_taken) {
  std::map<MsgId, StoredResult> out;
  for (MsgId id : ids) {
    const TaskRecord& rec = record(id);
    if (!finished(rec) || (rec.hub & (kValuesPurged | kRecordPurged))) continue;
    if (skip_taken && taken_locked(id)) continue;
    const Submission& sub = store_.submission(id);
    out.emplace(id, StoredResult(self, id, rec.status, sub.fname,
                                 sub.type ? demangle(sub.type->name()) : std::string(),
                                 rec.nitems));
  }
  return out;
}

void ClientCore::mark_taken_locked(const ResultStateBase& st) {
  for (std::uint32_t k = 0; k < st.ntasks; ++k) {
    MsgId id = st.msg(k);
    if (id < base_) continue;
    if (id - base_ >= taken_.size()) taken_.resize(id - base_ + 1, false);
    taken_[id - base_] = true;
  }
}

QueueStatus ClientCore::queue_status_locked(const std::vector<int>& targets, bool verbose) const {
  QueueStatus q;
  std::vector<char> wanted(engines_.size(), targets.empty() ? 1 : 0);
  for (int t : targets) {
    if (t < 0 || static_cast<std::size_t>(t) >= engines_.size())
      throw UsageError(fmt::format("queue_status: engine {} does not exist (engines 0..{})", t,
                                   engines_.size() - 1));
    wanted[static_cast<std::size_t>(t)] = 1;
  }
  for (std::size_t e = 0; e < engines_.size(); ++e)
    if (wanted[e]) q.engines[static_cast<int>(e)];
  auto add = [&](std::size_t& n, std::vector<MsgId>& v, MsgId id) {
    ++n;
    if (verbose) v.push_back(id);
  };
  // Direct tasks waiting on rank 0 for their engine.
  std::vector<char> direct(next_msg_locked() - base_, 0);
  for (std::size_t e = 0; e < slots_.size(); ++e)
    for (const auto& [src, t] : slots_[e].direct) {
      MsgId id = src->first_msg + t;
      if (record(id).status != TaskStatus::queued) continue;
      direct[id - base_] = 1;
      if (wanted[e]) add(q.engines[static_cast<int>(e)].queued, q.engines[static_cast<int>(e)].queued_ids, id);
    }
  for (MsgId id = base_; id < next_msg_locked(); ++id) {
    const TaskRecord& r = record(id);
    if (r.hub & kRecordPurged) continue;
    if (r.status == TaskStatus::queued) {
      if (!direct[id - base_]) add(q.unassigned, q.unassigned_ids, id);
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

void ClientCore::purge_locked(const Jobs& jobs, const std::vector<int>& targets, bool local,
                              bool hub, const char* what) {
  if (jobs.empty() && targets.empty())
    throw UsageError(fmt::format("{}: say what to purge: msg ids, results, mpiply::all, or "
                                 "engine ids as targets",
                                 what));
  for (int t : targets)
    if (t < 0 || static_cast<std::size_t>(t) >= engines_.size())
      throw UsageError(fmt::format("{}: engine {} does not exist (engines 0..{})", what, t,
                                   engines_.size() - 1));
  std::vector<MsgId> ids;
  bool all = jobs.all();
  if (!jobs.empty()) {
    ids = resolve_locked(jobs, what);
    if (!all)
      for (MsgId id : ids)
        if (!finished(record(id)))
          throw UsageError(fmt::format("{}: msg id {} is still {}; wait for it (or abort it) "
                                       "before purging it. Nothing was purged",
                                       what, id, to_string(record(id).status)));
  }
  if (!targets.empty()) {
    // Every finished task that ran on these engines.
    for (MsgId id = base_; id < next_msg_locked(); ++id) {
      const TaskRecord& r = record(id);
      if (!(r.hub & kRecordPurged) && finished(r) &&
          std::find(targets.begin(), targets.end(), r.engine) != targets.end())
        ids.push_back(id);
    }
  }
  for (MsgId id : ids) {
    TaskRecord& r = record(id);
    if (!finished(r)) continue;  // "all" leaves outstanding tasks alone
    if (r.hub & kRecordPurged) continue;  // named twice
    if ((local || hub) && !(r.hub & kValuesPurged)) {
      store_.drop(id - base_);
      r.hub |= kValuesPurged;
      Submission& sub = store_.submission(id);
      if (--sub.kept == 0) sub.src.reset();
    }
    if (hub) release_record_locked(id, false);  // record, slot and what is kept beside it
  }
#ifdef __GLIBC__
  malloc_trim(0);  // freed values go back to the system, not only to malloc's free lists
#endif
}

std::shared_ptr<TaskSource> ClientCore::resubmit_source_locked(
    const std::shared_ptr<ClientCore>& self, const std::vector<MsgId>& ids,
    const std::type_info* type) {
  if (ids.empty()) throw UsageError("resubmit: no msg ids given");
  auto src = std::make_shared<ResubmitSource>();
  std::size_t items = 0;
  const Submission* first = nullptr;
  for (MsgId id : ids) {
    // A task still queued or running may run again too (ipyparallel allows it): its arguments
    // are kept until it is purged, and the new task is independent of the old one.
    const TaskRecord& rec = known_record_locked(id, "resubmit");
    Submission& sub = store_.submission(id);
    if (sub.fn_id == 0)
      throw UsageError(fmt::format("resubmit: msg id {} is a '{}', not a function call; only "
                                   "calls can be resubmitted",
                                   id, sub.fname));
    if (!sub.make)
      throw UsageError(fmt::format("resubmit: msg id {} was not submitted through a view", id));
    if (!sub.src)
      throw UsageError(fmt::format("resubmit: msg id {} ('{}') was purged, so its arguments are "
                                   "gone; submit it again from the view",
                                   id, sub.fname));
    if (first && (first->make != sub.make || first->src->fn_id != sub.src->fn_id))
      throw UsageError(fmt::format("resubmit: msg ids {} ('{}') and {} ('{}') run different "
                                   "functions or kinds of task; resubmit them separately",
                                   ids.front(), first->fname, id, sub.fname));
    if (first && first->src->targets.empty() != sub.src->targets.empty())
      throw UsageError(fmt::format("resubmit: msg ids {} and {} mix load-balanced and direct "
                                   "tasks; resubmit them separately",
                                   ids.front(), id));
    if (type && sub.type && *sub.type != *type)
      throw UsageError(fmt::format("resubmit: msg id {} ('{}') gives values of type {}, not {}",
                                   id, sub.fname, demangle(sub.type->name()),
                                   demangle(type->name())));
    if (!first) first = &sub;
    auto t = static_cast<std::uint32_t>(id - sub.first);
    src->origs.push_back(sub.src);
    if (!sub.src->targets.empty()) src->targets.push_back(sub.src->targets[t]);
    src->tasks.push_back(t);
    src->begins.push_back(items);
    items += rec.nitems;
  }
  const TaskSource& orig = *first->src;
  src->fn_id = orig.fn_id;
  src->ntasks = static_cast<std::uint32_t>(ids.size());
  src->candidates = orig.candidates;
  src->flags = orig.flags;
  src->flags.after.reset();  // the dependencies were met (or not) the first time
  src->flags.follow.reset();
  auto st = first->make(self, first->fname, items);
  st->factory = first->make;
  src->state = st;
  return src;
}

}  // namespace mpiply::detail
