#pragma once
// Who receives each task's result on rank 0: the submissions (value type, state class, function,
// submission time, and the result state its unfinished tasks deliver to), the extra result states
// that wait for a running task (get_result of a task not yet finished), and which tasks' results
// their owning handle already fetched (results() leaves those out). What a whole submission
// shares is kept once here, not in every TaskRecord. All by msg id.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "hub/record_table.hpp"

namespace mpiply::detail {

struct Submission {
  MsgId first = 0;
  std::uint32_t ntasks = 0;
  std::uint32_t kept = 0;             // tasks whose values are not purged
  std::uint32_t unfinished = 0;       // tasks that did not give their share of `state` back
  std::uint32_t alive = 0;            // tasks whose record is in the hub (not purged or culled)
  std::uint64_t fn_id = 0;            // 0: not a function call (a push, an execute)
  std::int64_t submitted = 0;         // ns (time.hpp), every task of it
  std::shared_ptr<ResultStateBase> state;  // the values' state, until every task finished
  // The same state, without keeping it: expired once no AsyncResult of the submission is held
  // (the hub's cap culls only such tasks, as Dask forgets released futures).
  std::weak_ptr<ResultStateBase> watch;
  std::shared_ptr<TaskSource> src;    // calls only, for resubmit; dropped when kept reaches 0
  StateFactory make = nullptr;
  const std::type_info* type = nullptr;
  std::string fname;
};

// A state built by the hub that takes a running task's items when they arrive.
struct Follower {
  std::shared_ptr<ResultStateBase> state;
  std::size_t item_base;
};

class SubmissionTable {
 public:
  SubmissionTable() = default;
  SubmissionTable(const SubmissionTable&) = delete;
  SubmissionTable& operator=(const SubmissionTable&) = delete;

  // The submission of the tasks msg ids first .. first + ntasks - 1, their records already in
  // the table; it holds their result state until each of them took its share (take_state).
  void add(const std::shared_ptr<TaskSource>& src, std::shared_ptr<ResultStateBase> state,
           MsgId first, std::int64_t submitted);
  // The result state a finishing task delivers to, once per task (null the second time, or
  // when the submission had none); the submission lets it go with its last task.
  std::shared_ptr<ResultStateBase> take_state(TaskRecord& rec, MsgId id);
  Submission& submission(MsgId id) { return subs_[sub_index(id)]; }
  const Submission& submission(MsgId id) const { return subs_[sub_index(id)]; }
  // A task of the submission left the hub; with its last one the submission goes too (its
  // state, source and name now, its slot once the rest of its block went).
  void release_task(MsgId id);
  // Submissions still held (for tests and the hub's memory figures).
  std::size_t held() const noexcept { return subs_held_; }

  bool has_followers() const noexcept { return !followers_.empty(); }
  void follow(MsgId id, Follower f) { followers_.emplace(id, std::move(f)); }
  // Removes and returns the followers of a task that finished.
  std::vector<Follower> take_followers(MsgId id);

  // A handle that owns these tasks' results fetched them (AsyncResult::get).
  void mark_taken(const ResultStateBase& st);
  bool taken(MsgId id) const { return id < taken_.size() && taken_[id]; }

 private:
  std::size_t sub_index(MsgId id) const;

  // In msg id order; in blocks that never move, so that a job of many small submissions (a loop
  // of applies) does not copy them all again each time the table grows.
  BlockTable<Submission> subs_;
  std::vector<MsgId> block_first_;  // per block of subs_: its first submission's first msg id
  std::size_t subs_held_ = 0;
  mutable std::size_t last_sub_ = 0;  // the one submission() found last: results come in order
  std::unordered_multimap<MsgId, Follower> followers_;
  std::vector<bool> taken_;  // by msg id
};

}  // namespace mpiply::detail
