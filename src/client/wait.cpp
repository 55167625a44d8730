// wait_any, wait_all and as_completed over results of any value types (include/mpiply/wait.hpp).
// One predicate over all the results' states, checked under the client lock by ClientCore::wait,
// so the waiting thread drives progress as a single wait does.
#include <mpiply/wait.hpp>

#include <limits>

#include <fmt/format.h>

#include "client/client_core.hpp"

namespace mpiply {

namespace detail {

struct WaitAccess {
  static ResultStateBase* state(const AsyncResultBase& r) { return r.st_.get(); }
};

namespace {

struct Many {
  std::vector<ResultStateBase*> st;
  const std::vector<bool>* taken = nullptr;  // positions to skip (as_completed)
  bool all = false;
};

bool finished(const ResultStateBase* s) { return s->items_done == s->nitems; }

bool many_pred(const void* c) {
  auto* m = static_cast<const Many*>(c);
  for (std::size_t i = 0; i < m->st.size(); ++i) {
    if (m->taken && (*m->taken)[i]) continue;
    bool f = finished(m->st[i]);
    if (m->all && !f) return false;
    if (!m->all && f) return true;
  }
  return m->all;
}

Many collect(const std::vector<AsyncResultBase>& rs, const char* what) {
  if (rs.empty()) throw UsageError(fmt::format("{}: no results given; pass at least one", what));
  Many m;
  for (const auto& r : rs) {
    m.st.push_back(WaitAccess::state(r));
    if (m.st.back()->core != m.st.front()->core)
      throw UsageError(fmt::format("{}: the results come from different runs of mpiply::run; "
                                   "wait on each separately",
                                   what));
  }
  return m;
}

// Among the finished, untaken positions: the one that finished first. Lock held.
std::optional<std::size_t> earliest_finished(const Many& m) {
  std::optional<std::size_t> best;
  std::uint64_t best_seq = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < m.st.size(); ++i) {
    if ((m.taken && (*m.taken)[i]) || !finished(m.st[i])) continue;
    if (!best || m.st[i]->done_seq < best_seq) {
      best = i;
      best_seq = m.st[i]->done_seq;
    }
  }
  return best;
}

std::optional<Deadline> deadline_of(std::optional<Seconds> t) {
  if (!t) return std::nullopt;
  return deadline_after(*t);
}

std::optional<std::size_t> wait_first(Many& m, std::optional<Seconds> timeout) {
  ClientCore& core = *m.st.front()->core;
  if (!core.wait(&many_pred, &m, deadline_of(timeout))) return std::nullopt;
  std::lock_guard lk(core.rank0().mu);
  return earliest_finished(m);
}

}  // namespace
}  // namespace detail

std::optional<std::size_t> wait_any(const std::vector<AsyncResultBase>& results,
                                    std::optional<Seconds> timeout) {
  auto m = detail::collect(results, "wait_any");
  return detail::wait_first(m, timeout);
}

bool wait_all(const std::vector<AsyncResultBase>& results, std::optional<Seconds> timeout) {
  if (results.empty()) return true;
  auto m = detail::collect(results, "wait_all");
  m.all = true;
  return m.st.front()->core->wait(&detail::many_pred, &m, detail::deadline_of(timeout));
}

AsCompleted::AsCompleted(std::vector<AsyncResultBase> results)
    : results_(std::move(results)), taken_(results_.size(), false), left_(results_.size()) {
  if (!results_.empty()) detail::collect(results_, "as_completed");  // same run, checked now
}

std::optional<std::size_t> AsCompleted::next(std::optional<Seconds> timeout) {
  if (left_ == 0) return std::nullopt;
  auto m = detail::collect(results_, "as_completed");
  m.taken = &taken_;
  auto i = detail::wait_first(m, timeout);
  if (!i)
    throw TimeoutError(fmt::format("as_completed: none of the {} remaining results finished "
                                   "within {:.3f} s; nothing is lost, call next() again",
                                   left_, timeout->count()));
  taken_[*i] = true;
  --left_;
  return i;
}

void AsCompleted::iterator::advance() {
  auto i = ac_->next();
  if (i)
    cur_ = *i;
  else
    done_ = true;
}

}  // namespace mpiply
