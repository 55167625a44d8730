#pragma once
// The shared memory between an engine and its worker process (isolation.hpp): one memfd that both
// map, holding a small control block and one data area that carries a task message to the worker
// and its result back, so no message's bytes go through a pipe. Wake-ups cost a system call only
// when the other side has said it is asleep: a futex on the request counter (engine -> worker)
// and an eventfd (worker -> engine), which the engine can poll together with the worker's pidfd
// to notice a death at once.
//
// The data area grows when a message does not fit: the side about to write grows the file and
// maps it again; the other side maps the larger file before it next reads. It never shrinks.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mpiply::detail {

class ShmChannel {
 public:
  // Reply flag: the task changed the worker's copy of the engine namespace.
  static constexpr std::uint32_t kNamespaceChanged = 1;

  ShmChannel();  // throws Error if shared memory cannot be had
  ~ShmChannel();
  ShmChannel(const ShmChannel&) = delete;
  ShmChannel& operator=(const ShmChannel&) = delete;

  // ---- engine side ----
  // Copies msg into the data area and wakes the worker. Returns the request's sequence number.
  std::uint32_t post_request(std::span<const char> msg);
  // Whether the worker has picked request seq up (it may have died before).
  bool taken(std::uint32_t seq) const noexcept;
  bool replied(std::uint32_t seq) const noexcept;
  // The reply to the last request, valid until the next post_request.
  std::span<const char> reply(std::uint32_t& flags);
  // Before sleeping on wake_fd(): says so, and returns false if the reply came meanwhile (then
  // do not sleep). After waking (or not sleeping) call end_sleep.
  bool begin_sleep(std::uint32_t seq) noexcept;
  void end_sleep() noexcept;
  int wake_fd() const noexcept { return event_fd_; }

  // ---- worker side ----
  // Waits up to timeout_ms for the next request; false on timeout.
  bool wait_request(int timeout_ms, std::span<const char>& msg);
  // A buffer of n bytes for the reply (the data area, grown when needed), then post it.
  char* reply_buffer(std::size_t n);
  void post_reply(std::size_t n, std::uint32_t flags);

 private:
  struct Control;
  Control* ctl() const noexcept { return reinterpret_cast<Control*>(base_); }
  char* data() const noexcept;
  void ensure(std::size_t n);  // this side writes n bytes: grow the file if needed
  void follow();               // the other side may have grown it: map all of it

  int mem_fd_ = -1;
  int event_fd_ = -1;
  char* base_ = nullptr;
  std::size_t mapped_ = 0;  // bytes of the file this side has mapped
  std::uint32_t seen_ = 0;  // worker: last request taken
};

}  // namespace mpiply::detail
