// The engine's end of the ring (ring_engine_end.hpp). Ordering, for both ends: each side
// publishes with a seq_cst store of its counter and then reads the other side's "asleep" word;
// the sleeper stores "asleep" and then reads the counter again. In the single total order of
// seq_cst operations one of the two sees the other's store, so no wake-up is lost; the futex call
// checks the counter once more in the kernel.
#include "isolation/ring_engine_end.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

std::uint32_t RingEngineEnd::post(std::span<const char> msg, bool taken_back) {
  if (msg.size() > ring_.slot_bytes())
    throw Error(fmt::format("mpiply: isolation: a {}-byte task message does not fit the "
                            "worker's {}-byte slot",
                            msg.size(), ring_.slot_bytes()));
  std::uint32_t seq = posted_ + 1;
  ShmRing::Slot& s = ring_.slot(seq);
  if (taken_back) {
    s.request_len = 0;  // never read: the worker cannot take the slot
  } else {
    std::memcpy(ring_.data(seq), msg.data(), msg.size());
    s.request_len = msg.size();
  }
  // Published by `posted`.
  s.state.store(taken_back ? ShmRing::Slot::kTakenBack : ShmRing::Slot::kPosted,
                std::memory_order_relaxed);
  ShmRing::Control& c = ring_.control();
  c.posted.store(seq, std::memory_order_seq_cst);
  posted_ = seq;
  if (c.worker_asleep.load(std::memory_order_seq_cst))
    syscall(SYS_futex, futex_word(c.posted), FUTEX_WAKE, 1, nullptr, nullptr, 0);
  return seq;
}

bool RingEngineEnd::cancel(std::uint32_t seq) noexcept {
  std::uint32_t expected = ShmRing::Slot::kPosted;
  return ring_.slot(seq).state.compare_exchange_strong(expected, ShmRing::Slot::kTakenBack,
                                                       std::memory_order_acq_rel);
}

bool RingEngineEnd::started(std::uint32_t seq) const noexcept {
  return ring_.control().taken.load(std::memory_order_acquire) >= seq;
}

bool RingEngineEnd::oldest_started() const noexcept {
  return ring_.control().taken.load(std::memory_order_acquire) != read_;
}

std::int64_t RingEngineEnd::oldest_started_ns() const noexcept {
  return ring_.slot(read_ + 1).started_ns;
}

bool RingEngineEnd::has_reply() const noexcept {
  return ring_.control().replied.load(std::memory_order_acquire) != read_;
}

std::span<const char> RingEngineEnd::take_reply(std::uint32_t& flags) noexcept {
  std::uint32_t seq = ++read_;
  const ShmRing::Slot& s = ring_.slot(seq);
  flags = s.reply_flags;
  return {ring_.data(seq), s.reply_len};
}

bool RingEngineEnd::begin_sleep() noexcept {
  ShmRing::Control& c = ring_.control();
  c.engine_asleep.store(1, std::memory_order_seq_cst);
  if (c.replied.load(std::memory_order_seq_cst) != read_) {
    c.engine_asleep.store(0, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void RingEngineEnd::end_sleep() noexcept {
  ring_.control().engine_asleep.store(0, std::memory_order_relaxed);
  std::uint64_t v;
  ssize_t rc = read(ring_.wake_fd(), &v, sizeof v);  // empties the counter (nonblocking)
  (void)rc;
}

}  // namespace mpiply::detail
