#pragma once
// The extra result states that wait for a running task (get_result of a task not yet finished),
// and which tasks' results their owning handle already fetched (results() leaves those out).
// By msg id.
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

namespace mpiply::detail {

// A state built by the hub that takes a running task's items when they arrive.
struct Follower {
  std::shared_ptr<ResultStateBase> state;
  std::size_t item_base;
};

class FollowTable {
 public:
  FollowTable() = default;
  FollowTable(const FollowTable&) = delete;
  FollowTable& operator=(const FollowTable&) = delete;

  bool has_followers() const noexcept { return !followers_.empty(); }
  void follow(MsgId id, Follower f) { followers_.emplace(id, std::move(f)); }
  // Removes and returns the followers of a task that finished.
  std::vector<Follower> take_followers(MsgId id);

  // A handle that owns these tasks' results fetched them (AsyncResult::get).
  void mark_taken(const ResultStateBase& st);
  bool taken(MsgId id) const { return id < taken_.size() && taken_[id]; }

 private:
  std::unordered_multimap<MsgId, Follower> followers_;
  std::vector<bool> taken_;  // by msg id
};

}  // namespace mpiply::detail
