#pragma once
// The values the hub keeps: each finished task's result items as they came over the wire
// (encoded bytes), referred to from its TaskRecord, so rc.get_result and rc.results() work after
// the AsyncResult is gone. The record holds results of up to 8 encoded bytes itself, and a
// single ok item of up to 8 bytes (an int, a double: 9 or 13 encoded bytes) as those bytes; up
// to 4 KiB go to shared 4 MiB blocks on huge pages, larger ones to an allocation of their own.
// Memory per task: none beyond the record for such small results; per submission of calls, its
// TaskSource (the encoded arguments or the map's inputs), for resubmit. purge_* gives both back
// (a shared block once none of its results is kept). Also here: the submissions (value type,
// state class, function, submission time, the result state its unfinished tasks deliver to) and
// the extra result states that wait for a running task (get_result of a task not yet finished).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "hub/record_table.hpp"

namespace mpiply::detail {

// Results at least this large that arrived in a buffer of their own are kept by taking that
// buffer (adopt) rather than by a copy.
inline constexpr std::size_t kAdoptMinBytes = std::size_t(1) << 20;

struct Submission {
  MsgId first = 0;
  std::uint32_t ntasks = 0;
  std::uint32_t kept = 0;             // tasks whose values are not purged
  std::uint32_t unfinished = 0;       // tasks that did not give their share of `state` back
  std::uint32_t alive = 0;            // tasks whose record is still in the hub (not purged or culled)
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


class ResultStore {
 public:
  explicit ResultStore(RecordTable& records) : records_(records) {}
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // The submission of the tasks msg ids first .. first + ntasks - 1, their records already in
  // the table; it holds their result state until each of them took its share (take_state).
  void add(const std::shared_ptr<TaskSource>& src, std::shared_ptr<ResultStateBase> state,
           MsgId first, std::int64_t submitted);
  // The result state a finishing task delivers to, once per task (null the second time, or
  // when the submission had none); the submission lets it go with its last task.
  std::shared_ptr<ResultStateBase> take_state(TaskRecord& rec, MsgId id);
  // The kept bytes of the task at index i of the table (msg id - the table's base); a packed
  // result is unpacked into buf, which must outlive the view.
  using Unpacked = char[16];
  std::string_view bytes(std::size_t i, Unpacked& buf) const;
  void keep(std::size_t i, const char* p, std::size_t n);
  // Keeps the n bytes at p, which lie inside buf, by taking buf itself instead of copying them:
  // a large result received whole into a buffer of its own (ResultInbox::take_big).
  void adopt(std::size_t i, Bytes&& buf, const char* p, std::size_t n);
  // Frees a slot's bytes (a shared block goes back once none of its results is kept).
  void drop(std::size_t i);
  Submission& submission(MsgId id) { return subs_[sub_index(id)]; }
  const Submission& submission(MsgId id) const { return subs_[sub_index(id)]; }
  // A task of the submission left the hub; with its last one the submission goes too (its
  // state, source and name now, its slot once the rest of its block went).
  void release_task(MsgId id);
  // Submissions still held (for tests and the hub's memory figures).
  std::size_t submissions_held() const noexcept { return subs_held_; }
  // Bytes held for kept values beyond the records: live blocks and own allocations.
  std::size_t bytes_held() const { return heap_; }

  bool has_followers() const noexcept { return !followers_.empty(); }
  void follow(MsgId id, Follower f) { followers_.emplace(id, std::move(f)); }
  // Removes and returns the followers of a task that finished.
  std::vector<Follower> take_followers(MsgId id);

 private:
  static constexpr std::size_t kBlockBytes = std::size_t(4) << 20;  // huge pages (bytes.cpp)
  static constexpr std::size_t kSharedMax = 4096;
  struct Block {
    char* p = nullptr;
    std::size_t used = 0, live = 0;  // bytes handed out; results still kept
  };
  std::size_t sub_index(MsgId id) const;
  static constexpr std::uint32_t kInline = 8;
  static constexpr std::uint32_t kOwn = 0xffffffffu;  // no block being filled
  RecordTable& records_;
  std::vector<Block> blocks_;
  std::uint32_t cur_ = kOwn;  // block being filled
  std::size_t heap_ = 0;
  // In msg id order; in blocks that never move, so that a job of many small submissions (a loop
  // of applies) does not copy them all again each time the table grows.
  BlockTable<Submission> subs_;
  std::vector<MsgId> block_first_;  // per block of subs_: its first submission's first msg id
  std::size_t subs_held_ = 0;
  mutable std::size_t last_sub_ = 0;       // the one submission() found last: results come in order
  std::unordered_multimap<MsgId, Follower> followers_;
  std::unordered_map<std::size_t, Bytes> adopted_;  // by record index, the kKeptAdopted buffers
};

}  // namespace mpiply::detail
