#pragma once
// The worker's end of the shared ring (shm_ring.hpp): waits for the next request, answers on the
// way the ones the engine took back, and posts each reply into the slot its request came in.
// Made by the worker process after the fork (worker_main.hpp); the engine has a RingEngineEnd.
#include <cstddef>
#include <cstdint>
#include <span>

#include "isolation/shm_ring.hpp"

namespace mpiply::detail {

class RingWorkerEnd {
 public:
  explicit RingWorkerEnd(ShmRing& ring) noexcept : ring_(ring) {}
  RingWorkerEnd(const RingWorkerEnd&) = delete;
  RingWorkerEnd& operator=(const RingWorkerEnd&) = delete;

  // Waits up to timeout_ms for the next request; false on timeout. Requests the engine
  // cancelled are answered on the way.
  bool wait_request(int timeout_ms, std::span<const char>& msg);
  // The buffer for the reply to the request being run (its slot: the message is not read after
  // the task ran), then post it with its flags (ShmRing::Slot).
  char* reply_buffer() noexcept { return ring_.data(seen_); }
  void post_reply(std::size_t n, std::uint32_t flags);

 private:
  ShmRing& ring_;
  std::uint32_t seen_ = 0;  // the last request taken
};

}  // namespace mpiply::detail
