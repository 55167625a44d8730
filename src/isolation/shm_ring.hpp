#pragma once
// The shared memory between an engine and its worker process (isolation.hpp): one memfd that both
// map, holding a control block and a ring of slots. The engine posts task messages into the slots
// (as many as it holds, up to the ring's size) and the worker runs them one after the other,
// writing each result over its message, so the worker never waits for the engine between tasks
// and no message's bytes go through a pipe. Wake-ups cost a system call only when the other side
// has said it is asleep: a futex on the posted counter (engine -> worker) and an eventfd (worker
// -> engine), which the engine can poll together with the worker's pidfd to see a death at once.
// ShmRing owns the memory and the eventfd; each side reaches it through its own end:
// RingEngineEnd (ring_engine_end.hpp) and RingWorkerEnd (ring_worker_end.hpp).
//
// Each slot spans the largest message there is (max_message_bytes, 2 GiB) of address space, so
// nothing is ever remapped; the memfd is sparse and only the pages a message touched hold memory
// (they stay held, like a buffer that grew, until the worker is replaced).
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mpiply::detail {

class ShmRing {
 public:
  // What a slot holds besides its data. A slot belongs to one side at a time: the engine until it
  // bumps `posted`, the worker from then until it bumps `replied`, the engine again once it read
  // the reply.
  struct Slot {
    // States: whoever moves a slot out of kPosted first decides whether its request runs.
    static constexpr std::uint32_t kPosted = 0, kTaken = 1, kTakenBack = 2;
    // Reply flag: the task changed the worker's copy of the engine namespace.
    static constexpr std::uint32_t kNamespaceChanged = 1;
    // Reply flag: the engine cancelled the request before the worker started it; nothing ran.
    static constexpr std::uint32_t kCancelled = 2;

    std::atomic<std::uint32_t> state;  // kPosted, then kTaken (worker) or kTakenBack (engine)
    std::uint64_t request_len;
    std::uint64_t reply_len;
    std::int64_t started_ns;  // when the worker took it (CLOCK_MONOTONIC)
    std::uint32_t reply_flags;
  };
  static constexpr unsigned kMaxSlots = 64;

  // The start of the mapping. Each side's counter sits on its own cache line, away from the words
  // the other side writes.
  struct Control {
    alignas(64) std::atomic<std::uint32_t> posted;  // the last request the engine posted
    std::atomic<std::uint32_t> worker_asleep;
    alignas(64) std::atomic<std::uint32_t> taken;    // the last request the worker started
    std::atomic<std::uint32_t> replied;              // the last request the worker answered
    std::atomic<std::uint32_t> engine_asleep;
    alignas(64) Slot slot[kMaxSlots];
  };

  explicit ShmRing(unsigned slots);  // throws Error if shared memory cannot be had
  ~ShmRing();
  ShmRing(const ShmRing&) = delete;
  ShmRing& operator=(const ShmRing&) = delete;

  unsigned slots() const noexcept { return slots_; }
  std::size_t slot_bytes() const noexcept { return span_; }
  Control& control() const noexcept { return *reinterpret_cast<Control*>(base_); }
  // Request seq's slot and its data (requests are numbered 1, 2, ... round the ring).
  Slot& slot(std::uint32_t seq) const noexcept { return control().slot[seq % slots_]; }
  char* data(std::uint32_t seq) const noexcept {
    return base_ + kControlBytes + std::size_t(seq % slots_) * span_;
  }
  // The worker writes here after a reply when the engine said it sleeps.
  int wake_fd() const noexcept { return event_fd_; }

 private:
  static constexpr std::size_t kControlBytes = 8192;

  unsigned slots_;
  std::size_t span_;
  int mem_fd_ = -1;
  int event_fd_ = -1;
  char* base_ = nullptr;
  std::size_t mapped_ = 0;
};

// The address of a counter as the futex system call takes it.
inline std::uint32_t* futex_word(std::atomic<std::uint32_t>& a) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace mpiply::detail
