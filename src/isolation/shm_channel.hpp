#pragma once
// The shared memory between an engine and its worker process (isolation.hpp): one memfd that both
// map, holding a control block and a ring of slots. The engine posts task messages into the slots
// (as many as it holds, up to the ring's size) and the worker runs them one after the other,
// writing each result over its message, so the worker never waits for the engine between tasks
// and no message's bytes go through a pipe. Wake-ups cost a system call only when the other side
// has said it is asleep: a futex on the posted counter (engine -> worker) and an eventfd (worker
// -> engine), which the engine can poll together with the worker's pidfd to see a death at once.
//
// Each slot spans the largest message there is (max_message_bytes, 2 GiB) of address space, so
// nothing is ever remapped; the memfd is sparse and only the pages a message touched hold memory
// (they stay held, like a buffer that grew, until the worker is replaced).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mpiply::detail {

class ShmChannel {
 public:
  // Reply flag: the task changed the worker's copy of the engine namespace.
  static constexpr std::uint32_t kNamespaceChanged = 1;
  // Reply flag: the engine cancelled the request before the worker started it; nothing ran.
  static constexpr std::uint32_t kCancelled = 2;
  static constexpr unsigned kMaxSlots = 64;

  explicit ShmChannel(unsigned slots);  // throws Error if shared memory cannot be had
  ~ShmChannel();
  ShmChannel(const ShmChannel&) = delete;
  ShmChannel& operator=(const ShmChannel&) = delete;

  unsigned slots() const noexcept { return slots_; }
  std::size_t slot_bytes() const noexcept { return span_; }

  // ---- engine side. Requests are numbered 1, 2, ...; request seq may be posted once the reply
  // to seq - slots() has been read. ----
  // Copies msg into request seq's slot and wakes the worker. Throws Error if it cannot fit.
  void post(std::uint32_t seq, std::span<const char> msg);
  // Takes back request seq if the worker has not started it (it then answers kCancelled at
  // once); false if it has.
  bool cancel(std::uint32_t seq) noexcept;
  // The last request the worker started, and the last one it answered.
  std::uint32_t taken() const noexcept;
  std::uint32_t replied() const noexcept;
  // When the worker started request seq (CLOCK_MONOTONIC ns); valid once taken() >= seq.
  std::int64_t started_ns(std::uint32_t seq) const noexcept;
  // The reply to request seq (replied() >= seq), valid until seq + slots() is posted.
  std::span<const char> reply(std::uint32_t seq, std::uint32_t& flags) const noexcept;
  // Before sleeping on wake_fd(): says so, and returns false if a reply past `read` came
  // meanwhile (then do not sleep). After waking (or not sleeping) call end_sleep.
  bool begin_sleep(std::uint32_t read) noexcept;
  void end_sleep() noexcept;
  int wake_fd() const noexcept { return event_fd_; }

  // ---- worker side ----
  // Waits up to timeout_ms for the next request; false on timeout. Requests the engine
  // cancelled are answered on the way.
  bool wait_request(int timeout_ms, std::span<const char>& msg);
  // The buffer for the reply to the request being run (its slot: the message is not read after
  // the task ran), then post it.
  char* reply_buffer() noexcept;
  void post_reply(std::size_t n, std::uint32_t flags);

 private:
  struct Control;
  struct Slot;
  Control* ctl() const noexcept { return reinterpret_cast<Control*>(base_); }
  Slot& slot_of(std::uint32_t seq) const noexcept;
  char* data_of(std::uint32_t seq) const noexcept;

  unsigned slots_;
  std::size_t span_;
  int mem_fd_ = -1;
  int event_fd_ = -1;
  char* base_ = nullptr;
  std::size_t mapped_ = 0;
  std::uint32_t seen_ = 0;  // worker: last request taken
};

}  // namespace mpiply::detail
