#pragma once
// The values the hub keeps, beside the task table: each finished task's result items as they
// came over the wire (encoded bytes), in a slot indexed like the records, so rc.get_result and
// rc.results() work after the AsyncResult is gone. A slot is a std::string: results of up to 15
// bytes (a double or an int64 item is 13) live in the slot itself, larger ones on the heap.
// Memory per task: 32 bytes of slot, plus the encoded result when over 15 bytes; per submission
// of calls, its TaskSource (the encoded arguments or the map's inputs), for resubmit. purge_*
// gives both back. Also here: the submissions (value type, state class, function) and the extra
// result states that wait for a running task (get_result of a task not yet finished).
#include <cstddef>
#include <memory>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "record_table.hpp"

namespace mpiply::detail {

struct Submission {
  MsgId first = 0;
  std::uint32_t ntasks = 0;
  std::uint32_t kept = 0;             // tasks whose values are not purged
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
  // Slots for the submission's tasks (msg ids first .. first + ntasks - 1, in order).
  void add(const std::shared_ptr<TaskSource>& src, const ResultStateBase& st, MsgId first);
  // Slot of the task at index i of the table (msg id - the table's base).
  std::string& slot(std::size_t i) { return slots_[i]; }
  const std::string& slot(std::size_t i) const { return slots_[i]; }
  void keep(std::size_t i, const char* p, std::size_t n) {
    std::string& s = slots_[i];
    heap_ -= heap_of(s);
    s.assign(p, n);
    heap_ += heap_of(s);
  }
  // Frees a slot's values.
  void drop(std::size_t i) {
    std::string& s = slots_[i];
    heap_ -= heap_of(s);
    std::string().swap(s);
  }
  Submission& submission(MsgId id);
  // Bytes held for values: slots plus heap.
  std::size_t bytes_held() const { return slots_.size() * sizeof(std::string) + heap_; }

  bool has_followers() const noexcept { return !followers_.empty(); }
  void follow(MsgId id, Follower f) { followers_.emplace(id, std::move(f)); }
  // Removes and returns the followers of a task that finished.
  std::vector<Follower> take_followers(MsgId id);

 private:
  static std::size_t heap_of(const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;
  }
  BlockTable<std::string> slots_;
  std::size_t heap_ = 0;
  std::vector<Submission> subs_;  // in msg id order
  std::unordered_multimap<MsgId, Follower> followers_;
};

}  // namespace mpiply::detail
