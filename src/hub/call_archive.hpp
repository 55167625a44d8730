#pragma once
// The calls the hub keeps for resubmit, in a compact form: a one-task call's encoded message,
// its engine and its flags' id, appended to large blocks the hub owns. Keeping the submission's
// TaskSource instead would hold its own allocations (the source, its message, its flags) for
// every apply ever made, and a heap that grows by them faults in new pages on the apply path.
// A block goes back once none of its calls is kept (purge, the hub's cap); one emptied block is
// kept for the next, already faulted in.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mpiply::detail {

// One archived call, read back (views into the archive, valid until it is dropped).
struct ArchivedCall {
  std::span<const char> msg;
  int target = -1;          // its engine; -1: load-balanced over every engine
  std::uint32_t flags = 0;  // FlagsTable id
  bool has_references = false;
};

class CallArchive {
 public:
  using Ref = std::uint64_t;
  static constexpr Ref kNone = ~Ref(0);
  // Larger messages are not archived: their source is kept as it is.
  static constexpr std::size_t kMaxMsg = std::size_t(64) << 10;

  CallArchive() = default;
  ~CallArchive();
  CallArchive(const CallArchive&) = delete;
  CallArchive& operator=(const CallArchive&) = delete;

  // Appends a call (msg.size() <= kMaxMsg) and returns where it is.
  Ref put(std::span<const char> msg, int target, std::uint32_t flags, bool has_references);
  ArchivedCall get(Ref r) const;
  // The call is no longer kept; its block goes back with the last of its calls.
  void drop(Ref r);
  // Bytes of blocks held (for tests and the hub's memory figures), the spare not counted.
  std::size_t bytes_held() const noexcept { return held_; }
  // Blocks allocated so far, an emptied one filled again not counted (for tests).
  std::size_t blocks_allocated() const noexcept { return allocated_; }

 private:
  // On huge pages (alloc_bytes): a block is faulted in a huge page at a time, not 4 KiB pages.
  static constexpr std::size_t kBlockBytes = std::size_t(4) << 20;
  static constexpr std::uint32_t kNoBlock = 0xffffffffu;
  struct Head {
    std::uint32_t len;
    std::int32_t target;
    std::uint32_t flags;
    std::uint32_t refs;
  };
  struct Block {
    char* p = nullptr;
    std::size_t used = 0, live = 0;  // bytes handed out; calls still kept
  };
  void next_block();

  std::vector<Block> blocks_;
  std::uint32_t cur_ = kNoBlock;  // block being filled
  char* spare_ = nullptr;         // an emptied block kept for the next one
  std::size_t held_ = 0;
  std::size_t allocated_ = 0;
};

}  // namespace mpiply::detail
