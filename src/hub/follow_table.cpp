// The states waiting on running tasks, and the taken marks (follow_table.hpp).
#include "hub/follow_table.hpp"

#include <algorithm>

namespace mpiply::detail {

std::vector<Follower> FollowTable::take_followers(MsgId id) {
  std::vector<Follower> out;
  auto [b, e] = followers_.equal_range(id);
  for (auto it = b; it != e; ++it) out.push_back(std::move(it->second));
  followers_.erase(b, e);
  return out;
}

void FollowTable::mark_taken(const ResultStateBase& st) {
  for (std::uint32_t k = 0; k < st.ntasks; ++k) {
    MsgId id = st.msg(k);
    // Grown by halves, not by one id each apply (every resize of a vector<bool> is a call).
    if (id >= taken_.size())
      taken_.resize(std::max<std::size_t>(id + 1, taken_.size() * 3 / 2 + 64), false);
    taken_[id] = true;
  }
}

}  // namespace mpiply::detail
