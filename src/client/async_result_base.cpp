// AsyncResultBase: waiting, errors and timing metadata, common to every AsyncResult.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/detail/hub_access.hpp>
#include <mpiply/detail/type_name.hpp>

#include "client/client_core.hpp"
#include "support/clock.hpp"

namespace mpiply {

using detail::ClientCore;
using detail::ItemState;
using detail::ResultStateBase;

namespace {

std::optional<Deadline> deadline_of(std::optional<Seconds> timeout) {
  if (!timeout) return std::nullopt;
  return deadline_after(*timeout);
}

bool all_done(const void* ctx) {
  auto* st = static_cast<const ResultStateBase*>(ctx);
  return st->items_done == st->nitems;
}

// Collects one timestamp field of every task of a result (lock taken here).
template <class Field>
std::vector<TimePoint> stamps(const ResultStateBase& st, Field field) {
  auto& core = *st.core;
  std::lock_guard lk(core.rank0().mu);
  std::vector<TimePoint> out;
  for (std::uint32_t k = 0; k < st.ntasks; ++k) {
    std::int64_t ns = field(core, st.msg(k));
    if (ns) out.push_back(detail::to_time_point(ns));
  }
  return out;
}

}  // namespace

bool AsyncResultBase::ready() const {
  std::lock_guard lk(st_->core->rank0().mu);
  return st_->items_done == st_->nitems;
}

bool AsyncResultBase::wait(std::optional<Seconds> timeout) const {
  if (st_->nitems == 0) return true;
  return st_->core->wait(&all_done, st_.get(), deadline_of(timeout));
}

void AsyncResultBase::require_ready_locked(const char* what) const {
  if (st_->items_done != st_->nitems)
    throw NotReadyError(fmt::format("{}(): {} has {} of {} items still pending; wait() first or "
                                    "check ready()",
                                    what, st_->fname, st_->nitems - st_->items_done, st_->nitems));
}

bool AsyncResultBase::successful() const {
  std::lock_guard lk(st_->core->rank0().mu);
  require_ready_locked("successful");
  return st_->errors.empty();
}

double AsyncResultBase::elapsed() const {
  // On the steady clock: `submitted` is a wall-clock stamp, and a clock step would show here.
  if (st_->submitted_steady_ns == 0) return 0.0;
  return static_cast<double>(detail::steady_ns() - st_->submitted_steady_ns) * 1e-9;
}

std::size_t AsyncResultBase::progress() const {
  std::lock_guard lk(st_->core->rank0().mu);
  return st_->items_done;
}

std::size_t AsyncResultBase::size() const { return st_->nitems; }

double AsyncResultBase::serial_time() const {
  auto& core = *st_->core;
  std::lock_guard lk(core.rank0().mu);
  require_ready_locked("serial_time");
  std::int64_t sum = 0;
  for (std::uint32_t k = 0; k < st_->ntasks; ++k) {
    detail::TaskTimes t = core.rank0().table.times_locked(st_->msg(k));
    if (t.started && t.completed) sum += t.completed - t.started;
  }
  return static_cast<double>(sum) * 1e-9;
}

double AsyncResultBase::wall_time() const {
  {
    std::lock_guard lk(st_->core->rank0().mu);
    require_ready_locked("wall_time");
  }
  auto sub = submitted();
  auto rec = received();
  // Ready with nothing received: every task failed on rank 0 (never sent), so none took time.
  if (sub.empty() || rec.empty()) return 0.0;
  return timedelta(sub, rec);
}

std::vector<TaskMetadata> AsyncResultBase::metadata() const {
  auto& core = *st_->core;
  std::lock_guard lk(core.rank0().mu);
  std::vector<TaskMetadata> out;
  out.reserve(st_->ntasks);
  for (std::uint32_t k = 0; k < st_->ntasks; ++k) {
    MsgId id = st_->msg(k);
    out.push_back(core.rank0().hub.metadata_locked(id));
    // The first failing item of this task, for a quick look without catching.
    const auto& r = core.rank0().table.record(id);
    std::size_t first = st_->first_item_of(k, r.first_item);
    for (const auto& e : st_->errors) {
      if (e.index >= first && e.index < first + r.nitems) {
        out.back().error = e.error.ename() + ": " + e.error.evalue();
        break;
      }
    }
  }
  return out;
}

std::vector<MsgId> AsyncResultBase::msg_ids() const {
  std::vector<MsgId> out(st_->ntasks);
  for (std::uint32_t i = 0; i < st_->ntasks; ++i) out[i] = st_->msg(i);
  return out;
}

bool AsyncResultBase::sent() const {
  if (st_->ntasks == 0) return true;
  std::lock_guard lk(st_->core->rank0().mu);
  for (std::uint32_t k = 0; k < st_->ntasks; ++k)
    if (!st_->core->rank0().links.sent_locked(st_->msg(k))) return false;
  return true;
}

std::size_t AsyncResultBase::abort() const {
  if (st_->ntasks == 0) return 0;
  return detail::core_abort(*st_->core, msg_ids());
}

void AsyncResultBase::wait_for_send(std::optional<Seconds> timeout) const {
  if (st_->ntasks == 0) return;
  auto pred = [](const void* ctx) {
    auto* st = static_cast<const ResultStateBase*>(ctx);
    for (std::uint32_t k = 0; k < st->ntasks; ++k)
      if (!st->core->rank0().links.sent_locked(st->msg(k))) return false;
    return true;
  };
  if (!st_->core->wait(pred, st_.get(), deadline_of(timeout)))
    throw TimeoutError(fmt::format("wait_for_send: {} not sent within {:.3f} s", st_->fname,
                                   timeout->count()));
}

std::vector<TimePoint> AsyncResultBase::submitted() const {
  return stamps(*st_, [](const detail::ClientCore& c, MsgId id) {
    return c.rank0().table.submissions().submission(id).submitted;
  });
}
std::vector<TimePoint> AsyncResultBase::started() const {
  return stamps(*st_, [](const detail::ClientCore& c, MsgId id) {
    return c.rank0().table.times_locked(id).started;
  });
}
std::vector<TimePoint> AsyncResultBase::completed() const {
  return stamps(*st_, [](const detail::ClientCore& c, MsgId id) {
    return c.rank0().table.times_locked(id).completed;
  });
}
std::vector<TimePoint> AsyncResultBase::received() const {
  return stamps(*st_, [](const detail::ClientCore& c, MsgId id) {
    return c.rank0().table.times_locked(id).received;
  });
}

TimePoint AsyncResultBase::earliest(const std::vector<TimePoint>& v) {
  if (v.empty()) throw UsageError("timedelta: no timestamps (are the tasks finished?)");
  return *std::min_element(v.begin(), v.end());
}
TimePoint AsyncResultBase::latest(const std::vector<TimePoint>& v) {
  if (v.empty()) throw UsageError("timedelta: no timestamps (are the tasks finished?)");
  return *std::max_element(v.begin(), v.end());
}
double AsyncResultBase::timedelta(const std::vector<TimePoint>& start,
                                  const std::vector<TimePoint>& end, Key start_key, Key end_key) {
  return Seconds(end_key(end) - start_key(start)).count();
}

void AsyncResultBase::require_value_type(const std::type_info& type, const char* what) const {
  if (st_->value_type && *st_->value_type == type) return;
  throw UsageError(fmt::format("{}<{}>: '{}' gives values of type {}; ask for that type",
                               what, detail::demangle(type.name()), st_->fname,
                               st_->value_type ? detail::demangle(st_->value_type->name())
                                               : std::string("none")));
}

void AsyncResultBase::take_locked() const {
  if (!st_->owner || st_->taken) return;
  st_->core->rank0().table.submissions().follows().mark_taken(*st_);
  st_->taken = true;
}

void AsyncResultBase::wait_or_throw(std::optional<Seconds> timeout, bool composite) const {
  // The results are taken by the check that finds them all in, under the lock the wait holds:
  // no second lock between an apply's result and its value.
  auto done_and_taken = [](const void* ctx) {
    auto* self = static_cast<const AsyncResultBase*>(ctx);
    if (!all_done(self->st_.get())) return false;
    self->take_locked();
    return true;
  };
  if (!st_->core->wait(done_and_taken, this, deadline_of(timeout)))
    throw TimeoutError(fmt::format("{}: {} of {} results not ready within {:.3f} s (msg ids {}..{}); "
                                   "nothing is lost, wait again or call get() without a timeout",
                                   st_->fname, st_->nitems - progress(), st_->nitems,
                                   timeout->count(), st_->msg(0),
                                   st_->msg(st_->ntasks - 1)));
  // Final once every item finished (written under the lock before the wait saw them all).
  if (st_->errors.empty()) return;
  if (!composite && st_->errors.size() == 1) st_->errors.front().error.raise();
  auto errs = st_->errors;
  std::sort(errs.begin(), errs.end(), [](auto& a, auto& b) { return a.index < b.index; });
  throw CompositeError(std::move(errs), st_->nitems);
}

std::vector<int> AsyncResultBase::item_engines_for_dict() const {
  auto& core = *st_->core;
  std::lock_guard lk(core.rank0().mu);
  std::vector<int> engines(st_->nitems, -1);
  std::map<int, std::vector<MsgId>> per_engine;
  for (std::uint32_t k = 0; k < st_->ntasks; ++k) {
    MsgId id = st_->msg(k);
    const auto& r = core.rank0().table.record(id);
    per_engine[r.engine].push_back(id);
    if (r.nitems != 1)
      throw UsageError(fmt::format("get_dict: task {} carries {} map items; get_dict needs one "
                                   "result per task (use get() for maps)",
                                   id, r.nitems));
    engines[st_->first_item_of(k, r.first_item)] = r.engine;
  }
  for (auto& [e, ids] : per_engine)
    if (ids.size() > 1)
      throw UsageError(fmt::format("get_dict: engine {} ran {} of these tasks (msg ids {}); "
                                   "get_dict needs at most one task per engine",
                                   e, ids.size(), fmt::join(ids, ", ")));
  return engines;
}

void AsyncResultBase::wait_item(std::size_t i) const {
  if (i >= st_->nitems)
    throw UsageError(fmt::format("item {} requested from a result of {} items", i, st_->nitems));
  struct Ctx {
    const ResultStateBase* st;
    std::size_t i;
  } ctx{st_.get(), i};
  st_->core->wait(
      [](const void* c) {
        auto* x = static_cast<const Ctx*>(c);
        return x->st->item_state[x->i] != ItemState::pending;
      },
      &ctx, std::nullopt);
  std::lock_guard lk(st_->core->rank0().mu);
  if (st_->item_state[i] == ItemState::error)
    for (const auto& e : st_->errors)
      if (e.index == i) e.error.raise();
}

std::size_t AsyncResultBase::wait_arrival(std::size_t pos) const {
  struct Ctx {
    const ResultStateBase* st;
    std::size_t pos;
  } ctx{st_.get(), pos};
  st_->core->wait(
      [](const void* c) {
        auto* x = static_cast<const Ctx*>(c);
        return x->st->arrival.size() > x->pos;
      },
      &ctx, std::nullopt);
  std::lock_guard lk(st_->core->rank0().mu);
  return st_->arrival[pos];
}

}  // namespace mpiply
