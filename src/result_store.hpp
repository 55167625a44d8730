#pragma once
// The values the hub keeps, beside the task table: each finished task's result items as they
// came over the wire (encoded bytes), in a slot indexed like the records, so rc.get_result and
// rc.results() work after the AsyncResult is gone. A slot is 24 bytes and holds results of up to
// 16 encoded bytes itself (a double or an int64 item is 13); up to 4 KiB go to shared 4 MiB
// blocks on huge pages, larger ones to an allocation of their own. Memory per task: 24 bytes,
// plus the encoded result when over 16 bytes; per submission of calls, its TaskSource (the
// encoded arguments or the map's inputs), for resubmit. purge_* gives both back (a shared block
// once none of its results is kept). Also here: the submissions (value type, state class, function) and the extra
// result states that wait for a running task (get_result of a task not yet finished).
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

#include "record_table.hpp"

namespace mpiply::detail {

// Results at least this large that arrived in a buffer of their own are kept by taking that
// buffer (adopt) rather than by a copy.
inline constexpr std::size_t kAdoptMinBytes = std::size_t(1) << 20;

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

// Where a task's kept bytes are: in the slot itself (up to 16 bytes), in a shared 4 MiB block
// (up to 4 KiB: small results are many, and fresh 4 KiB pages cost more to touch than to fill),
// or in an allocation of their own (larger results, so purging one gives its memory back).
struct KeptSlot {
  static constexpr std::uint32_t kInline = 16;
  static constexpr std::uint32_t kOwn = 0xffffffffu;  // block value of an own allocation
  static constexpr std::uint32_t kAdopted = 0xfffffffeu;  // inside a received buffer, taken whole
  std::uint32_t len = 0;
  std::uint32_t block = 0;
  union {
    char bytes[kInline];
    std::uint64_t offset;
    char* own;
  } u{};
};
static_assert(sizeof(KeptSlot) == 24);

class ResultStore {
 public:
  ResultStore() = default;
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // Slots for the submission's tasks (msg ids first .. first + ntasks - 1, in order).
  void add(const std::shared_ptr<TaskSource>& src, const ResultStateBase& st, MsgId first);
  // The kept bytes of the task at index i of the table (msg id - the table's base).
  std::string_view bytes(std::size_t i) const;
  void keep(std::size_t i, const char* p, std::size_t n);
  // Keeps the n bytes at p, which lie inside buf, by taking buf itself instead of copying them:
  // a large result received whole into a buffer of its own (ResultInbox::take_big).
  void adopt(std::size_t i, Bytes&& buf, const char* p, std::size_t n);
  // Frees a slot's bytes (a shared block goes back once none of its results is kept).
  void drop(std::size_t i);
  Submission& submission(MsgId id);
  // Bytes held for kept values: slots, live blocks and own allocations.
  std::size_t bytes_held() const { return slots_.size() * sizeof(KeptSlot) + heap_; }

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
  BlockTable<KeptSlot> slots_;
  std::vector<Block> blocks_;
  std::uint32_t cur_ = KeptSlot::kOwn;  // block being filled
  std::size_t heap_ = 0;
  std::vector<Submission> subs_;  // in msg id order
  std::unordered_multimap<MsgId, Follower> followers_;
  std::unordered_map<std::size_t, Bytes> adopted_;  // by slot, the buffers of kAdopted slots
};

}  // namespace mpiply::detail
