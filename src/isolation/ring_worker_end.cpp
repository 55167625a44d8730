// The worker's end of the ring (ring_worker_end.hpp); the ordering of the counters and the
// "asleep" words is described in ring_engine_end.cpp.
#include "isolation/ring_worker_end.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace mpiply::detail {

namespace {

// How long the worker polls for its next request before sleeping: back-to-back tasks of a map
// arrive within this and pay no wake-up system call.
constexpr std::int64_t kWorkerSpinNs = 30'000;

std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool RingWorkerEnd::wait_request(int timeout_ms, std::span<const char>& msg) {
  ShmRing::Control& c = ring_.control();
  auto arrived = [&] { return c.posted.load(std::memory_order_acquire) != seen_; };
  for (;;) {
    if (!arrived()) {
      std::int64_t t0 = monotonic_ns();
      // Yield on every poll: the engine and rank 0 often want this core too (on 2 shared cores
      // yielding only beat pause-only and pause-then-yield: docs/benchmarks-log.md, last
      // section).
      while (!arrived() && monotonic_ns() - t0 <= kWorkerSpinNs) sched_yield();
    }
    if (!arrived()) {
      c.worker_asleep.store(1, std::memory_order_seq_cst);
      if (c.posted.load(std::memory_order_seq_cst) == seen_) {
        timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
        syscall(SYS_futex, futex_word(c.posted), FUTEX_WAIT, seen_, &ts, nullptr, 0);
      }
      c.worker_asleep.store(0, std::memory_order_relaxed);
      if (!arrived()) return false;
    }
    // One request at a time, in order, even when several were posted.
    std::uint32_t seq = seen_ + 1;
    seen_ = seq;
    ShmRing::Slot& s = ring_.slot(seq);
    std::uint32_t expected = ShmRing::Slot::kPosted;
    bool mine = s.state.compare_exchange_strong(expected, ShmRing::Slot::kTaken,
                                                std::memory_order_acq_rel);
    s.started_ns = monotonic_ns();
    c.taken.store(seq, std::memory_order_release);
    if (mine) {
      msg = {ring_.data(seq), s.request_len};
      return true;
    }
    post_reply(0, ShmRing::Slot::kCancelled);  // the engine took it back and answers it itself
  }
}

void RingWorkerEnd::post_reply(std::size_t n, std::uint32_t flags) {
  ShmRing::Slot& s = ring_.slot(seen_);
  s.reply_len = n;
  s.reply_flags = flags;
  ShmRing::Control& c = ring_.control();
  c.replied.store(seen_, std::memory_order_seq_cst);
  if (c.engine_asleep.load(std::memory_order_seq_cst)) {
    std::uint64_t one = 1;
    ssize_t rc = write(ring_.wake_fd(), &one, sizeof one);
    (void)rc;
  }
}

}  // namespace mpiply::detail
