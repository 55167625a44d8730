#pragma once
// Who receives each task's result on rank 0: the submissions (value type, state class, function,
// submission time, and the result state its unfinished tasks deliver to), by msg id, and what
// they share and keep beside them: their names, kept once (InternedNames), and their calls,
// kept for resubmit (KeptCalls). What a whole submission shares is kept once here, not in every
// TaskRecord. The states waiting on running tasks and the taken marks are the FollowTable's.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "hub/follow_table.hpp"
#include "hub/interned_names.hpp"
#include "hub/kept_calls.hpp"
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
  KeptCall call;                      // calls only, for resubmit; dropped when kept reaches 0
  std::uint32_t kind = 0;             // SubmissionTable::make and type: how its states are made
  std::uint32_t name = 0;             // SubmissionTable::name
};
// README.md and docs/hub.md give this size: what a loop of applies adds per call besides its
// TaskRecord and its archived call. What only some runs or submissions need is kept beside the
// table, not in every entry: the watch of a capped hub (SubmissionTable::watched) and a call
// kept as its source (KeptCalls).
static_assert(sizeof(Submission) == 72,
              "Submission changed size: update README.md and docs/hub.md");

class SubmissionTable {
 public:
  SubmissionTable() = default;
  SubmissionTable(const SubmissionTable&) = delete;
  SubmissionTable& operator=(const SubmissionTable&) = delete;

  // The submission of the tasks msg ids first .. first + ntasks - 1, their records already in
  // the table; it holds their result state until each of them took its share (take_state).
  // watch: the hub culls by whether the submission's AsyncResults are held (watched); the same
  // for every submission of a run (the hub has a cap or not).
  void add(const std::shared_ptr<TaskSource>& src, std::shared_ptr<ResultStateBase> state,
           MsgId first, std::int64_t submitted, bool watch);
  // A call's name (fname) and its copy for resubmit, kept once its tasks were handed on: an
  // apply's send does not wait for them. Called right after add's caller dispatched, with the
  // lock still held; nothing reads either before. Does nothing for a submission that is not a
  // call (add kept its name).
  void keep_call(MsgId first, const std::shared_ptr<TaskSource>& src, const std::string& fname);
  // The result state a finishing task delivers to, once per task (null the second time, or
  // when the submission had none); the submission lets it go with its last task.
  struct TakenState {
    ResultStateBase* state = nullptr;
    // The submission's last task: the table no longer holds the state, this keeps it alive
    // while the task delivers. Otherwise empty: the table holds it, and a task's share is a
    // pointer, not a count taken and given back for every result.
    std::shared_ptr<ResultStateBase> last;
  };
  TakenState take_state(TaskRecord& rec, MsgId id);
  Submission& submission(MsgId id) { return subs_[sub_index(id)]; }
  const Submission& submission(MsgId id) const { return subs_[sub_index(id)]; }
  // A task of the submission left the hub; with its last one the submission goes too (its
  // state and kept call now, its slot once the rest of its block went).
  void release_task(MsgId id);
  // Submissions still held (for tests and the hub's memory figures).
  std::size_t held() const noexcept { return subs_held_; }
  // Lookups by msg id that had to search the table (for tests): a walk in msg id order, and a
  // loop of applies asking for its newest submission, make none.
  std::size_t searches() const noexcept { return searches_; }
  const std::string& name(const Submission& s) const { return names_.name(s.name); }
  // How the submission's result states are made (null: not through a view), and its values'
  // type (null when unknown).
  StateFactory make(const Submission& s) const { return kinds_[s.kind].make; }
  const std::type_info* type(const Submission& s) const { return kinds_[s.kind].type; }
  // Whether an AsyncResult of the submission of msg id `id` is still held: its result state,
  // watched without being kept alive (a capped hub culls only submissions nobody holds, as Dask
  // forgets released futures). Only for a table whose submissions are added with watch.
  bool watched(MsgId id) const { return !watches_[sub_index(id)].expired(); }
  KeptCalls& calls() noexcept { return calls_; }
  const KeptCalls& calls() const noexcept { return calls_; }
  FollowTable& follows() noexcept { return follows_; }
  const FollowTable& follows() const noexcept { return follows_; }

 private:
  std::size_t sub_index(MsgId id) const;
  std::uint32_t kind_of(StateFactory make, const std::type_info* type);

  // In msg id order; in blocks that never move, so that a job of many small submissions (a loop
  // of applies) does not copy them all again each time the table grows.
  BlockTable<Submission> subs_;
  std::vector<MsgId> block_first_;  // per block of subs_: its first submission's first msg id
  // With watch: each submission's result state, not kept alive (a weak pointer keeps the state's
  // memory allocated, so a hub that keeps everything never asks). Indexed as subs_.
  BlockTable<std::weak_ptr<ResultStateBase>> watches_;
  // Submission::kind: each distinct pair of state factory and value type, kept once (index 0:
  // neither); the one interned last is tried first.
  struct Kind {
    StateFactory make = nullptr;
    const std::type_info* type = nullptr;
  };
  std::vector<Kind> kinds_{Kind{}};
  std::uint32_t last_kind_ = 0;
  std::size_t subs_held_ = 0;
  // Submissions found last by two walks (sub_index), and which hint was used last.
  mutable std::size_t hint_[2] = {0, 0};
  mutable unsigned hint_last_ = 0;
  mutable std::size_t searches_ = 0;
  InternedNames names_;
  KeptCalls calls_;
  FollowTable follows_;
};

}  // namespace mpiply::detail
