#pragma once
// The engine's end of the shared ring (shm_ring.hpp): posts task messages as requests 1, 2, ...,
// takes back those the worker has not started, reads the replies in order, and sleeps until the
// worker answers. It counts what it posted and what it read, so a fresh worker (a fresh ring)
// starts from zero with it. Lives in the engine; the worker has a RingWorkerEnd.
#include <cstdint>
#include <span>

#include "isolation/shm_ring.hpp"

namespace mpiply::detail {

class RingEngineEnd {
 public:
  explicit RingEngineEnd(ShmRing& ring) noexcept : ring_(ring) {}
  RingEngineEnd(const RingEngineEnd&) = delete;
  RingEngineEnd& operator=(const RingEngineEnd&) = delete;

  // Requests posted whose reply was not read yet (the oldest ones of the engine's pipeline).
  std::uint32_t in_flight() const noexcept { return posted_ - read_; }
  bool has_room() const noexcept { return in_flight() < ring_.slots(); }
  // Copies msg into the next request's slot, wakes the worker and returns the request's number.
  // Only when has_room(). Throws Error if msg cannot fit a slot. taken_back: the engine answers
  // the request itself (aborted, or not run in a drain); the slot is published taken back, so
  // the worker only answers kCancelled, however soon it looks.
  std::uint32_t post(std::span<const char> msg, bool taken_back = false);
  // Takes back request seq if the worker has not started it (it then answers kCancelled at
  // once); false if it has.
  bool cancel(std::uint32_t seq) noexcept;
  // Whether the worker started request seq; whether it started the oldest one in flight, and when
  // (CLOCK_MONOTONIC ns; only once started).
  bool started(std::uint32_t seq) const noexcept;
  bool oldest_started() const noexcept;
  std::int64_t oldest_started_ns() const noexcept;
  // Whether the oldest request in flight is answered; then take_reply gives its reply (valid
  // until the next post) and its flags (ShmRing::Slot), and counts it read.
  bool has_reply() const noexcept;
  std::span<const char> take_reply(std::uint32_t& flags) noexcept;
  // Before sleeping on the ring's wake_fd(): says so, and returns false if a reply came
  // meanwhile (then do not sleep). After waking (or not sleeping) call end_sleep.
  bool begin_sleep() noexcept;
  void end_sleep() noexcept;

 private:
  ShmRing& ring_;
  std::uint32_t posted_ = 0;  // the last request posted
  std::uint32_t read_ = 0;    // the last request whose reply was read
};

}  // namespace mpiply::detail
