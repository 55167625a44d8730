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
  s.make = state->factory;
  s.type = state->value_type;
  // A call's name and its copy for resubmit wait for keep_call. Only calls can be run again: a
  // push may borrow the caller's arrays, which are gone later.
  if (src->fn_id == 0) s.name = names_.intern(state->fname);
  if (watch) s.watch = state;
  if (src->ntasks > 0) s.state = std::move(state);
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
  s.watch.reset();
  calls_.drop(s.call);
  --subs_held_;
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
  if (last_sub_ < subs_.size() && subs_.present(last_sub_)) {
    const Submission& s = subs_[last_sub_];
    if (id >= s.first && id - s.first < s.ntasks) return last_sub_;
  }
  // The newest submission next (a loop of apply().get() asks for it every time), then a binary
  // search for the last submission starting at or before id: first over the blocks (some may be
  // freed), then inside the one that holds it. Callers checked that id is a known msg id whose
  // record is in the hub, so there is one and its block is held.
  std::size_t lo = 0, hi = subs_.size();
  if (hi > 0 && subs_.present(hi - 1) && subs_[hi - 1].first <= id) {
    lo = hi - 1;
  } else {
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
  last_sub_ = lo;
  return lo;
}


}  // namespace mpiply::detail
