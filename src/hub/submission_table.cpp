// The hub's submissions (submission_table.hpp).
#include "hub/submission_table.hpp"

#include <algorithm>

namespace mpiply::detail {

void SubmissionTable::add(const std::shared_ptr<TaskSource>& src,
                          std::shared_ptr<ResultStateBase> state, MsgId first,
                          std::int64_t submitted, bool watch) {
  if ((subs_.size() & (BlockTable<Submission>::kBlock - 1)) == 0) block_first_.push_back(first);
  Submission& s = subs_.emplace_back();
  ++subs_held_;
  s.first = first;
  s.ntasks = src->ntasks;
  s.alive = src->ntasks;
  s.kept = src->ntasks;
  s.unfinished = src->ntasks;
  s.fn_id = src->fn_id;
  s.submitted = submitted;
  s.kind = kind_of(state->factory, state->value_type);
  // A call's name and its copy for resubmit wait for keep_call. Only calls can be run again: a
  // push may borrow the caller's arrays, which are gone later.
  if (src->fn_id == 0) s.name = names_.intern(state->fname);
  if (watch) watches_.emplace_back() = state;
  if (src->ntasks > 0) s.state = std::move(state);
}

std::uint32_t SubmissionTable::kind_of(StateFactory make, const std::type_info* type) {
  auto same = [&](const Kind& k) { return k.make == make && k.type == type; };
  if (same(kinds_[last_kind_])) return last_kind_;
  for (std::uint32_t i = 0; i < kinds_.size(); ++i)
    if (same(kinds_[i])) return last_kind_ = i;
  kinds_.push_back({make, type});
  return last_kind_ = static_cast<std::uint32_t>(kinds_.size() - 1);
}

void SubmissionTable::keep_call(MsgId first, const std::shared_ptr<TaskSource>& src,
                                const std::string& fname) {
  if (src->fn_id == 0) return;
  Submission& s = submission(first);
  calls_.keep(s.call, src);
  s.name = names_.intern(fname);
}


void SubmissionTable::release_task(MsgId id) {
  std::size_t k = sub_index(id);
  Submission& s = subs_[k];
  if (--s.alive != 0) return;
  s.state.reset();
  calls_.drop(s.call);
  --subs_held_;
  if (k < watches_.size()) {
    watches_[k].reset();
    if (watches_.release(k)) watches_.free_block(k);
  }
  if (subs_.release(k)) subs_.free_block(k);
}


SubmissionTable::TakenState SubmissionTable::take_state(TaskRecord& rec, MsgId id) {
  if (rec.hub & kStateTaken) return {};
  rec.hub |= kStateTaken;
  Submission& s = submission(id);
  if (--s.unfinished == 0) return {s.state.get(), std::move(s.state)};
  return {s.state.get(), nullptr};
}


std::size_t SubmissionTable::sub_index(MsgId id) const {
  auto holds = [&](std::size_t k) {
    if (k >= subs_.size() || !subs_.present(k)) return false;
    const Submission& s = subs_[k];
    return id >= s.first && id - s.first < s.ntasks;
  };
  // Two walks in msg id order interleave: results arriving for the newest submissions, and the
  // hub's cap releasing the oldest, far behind (a capped loop of applies asks for both every
  // call). Each keeps its own hint; the submission a hint names, or the one after it, is found
  // at once. The hint used last is tried first.
  for (unsigned h = 0; h < 2; ++h) {
    unsigned w = hint_last_ ^ h;
    for (std::size_t k : {hint_[w], hint_[w] + 1}) {
      if (!holds(k)) continue;
      hint_[w] = k;
      hint_last_ = w;
      return k;
    }
  }
  // Then the newest submission, then a binary search for the last submission starting at or
  // before id: first over the blocks (some may be freed), then inside the one that holds it.
  // Callers checked that id is a known msg id whose record is in the hub, so there is one and
  // its block is held. What is found replaces the hint not used last.
  std::size_t lo = 0, hi = subs_.size();
  if (hi > 0 && subs_.present(hi - 1) && subs_[hi - 1].first <= id) {
    lo = hi - 1;
  } else {
    ++searches_;
    auto after = std::upper_bound(block_first_.begin(), block_first_.end(), id);
    std::size_t b = static_cast<std::size_t>(after - block_first_.begin()) - 1;
    constexpr std::size_t kB = BlockTable<Submission>::kBlock;
    lo = b * kB;
    hi = std::min(hi, lo + kB);
    while (hi - lo > 1) {
      std::size_t mid = lo + (hi - lo) / 2;
      (subs_[mid].first <= id ? lo : hi) = mid;
    }
  }
  hint_last_ ^= 1;
  hint_[hint_last_] = lo;
  return lo;
}


}  // namespace mpiply::detail
