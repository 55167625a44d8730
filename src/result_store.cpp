// The hub's kept values and submissions (result_store.hpp).
#include "result_store.hpp"

#include <algorithm>

#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

void ResultStore::add(const std::shared_ptr<TaskSource>& src, const ResultStateBase& st,
                      MsgId first) {
  for (std::uint32_t t = 0; t < src->ntasks; ++t) slots_.emplace_back();
  Submission& s = subs_.emplace_back();
  s.first = first;
  s.ntasks = src->ntasks;
  s.kept = src->ntasks;
  // Only calls can be run again; a push may borrow the caller's arrays, which are gone later.
  if (src->fn_id != 0) s.src = src;
  s.make = st.factory;
  s.type = st.value_type;
  s.fname = st.fname;
}

Submission& ResultStore::submission(MsgId id) {
  auto it = std::upper_bound(subs_.begin(), subs_.end(), id,
                             [](MsgId v, const Submission& s) { return v < s.first; });
  return *std::prev(it);  // callers checked that id is a known msg id
}

std::vector<Follower> ResultStore::take_followers(MsgId id) {
  std::vector<Follower> out;
  auto [b, e] = followers_.equal_range(id);
  for (auto it = b; it != e; ++it) out.push_back(std::move(it->second));
  followers_.erase(b, e);
  return out;
}

}  // namespace mpiply::detail
