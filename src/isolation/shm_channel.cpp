// The engine <-> worker ring (shm_channel.hpp). Ordering: each side publishes with a seq_cst
// store of its counter and then reads the other side's "asleep" word; the sleeper stores "asleep"
// and then reads the counter again. In the single total order of seq_cst operations one of the
// two sees the other's store, so no wake-up is lost; the futex call checks the counter once more
// in the kernel. A slot belongs to one side at a time: the engine until it bumps `posted`, the
// worker from then until it bumps `replied`, the engine again once it read the reply.
#include "isolation/shm_channel.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {

constexpr std::size_t kControlBytes = 8192;
// One MPI message is at most 2 GiB - 1 bytes (transport.hpp), so a slot of 2 GiB holds any
// task message and any result that may travel (a larger one is replaced before it is written).
constexpr std::size_t kSlotSpan = std::size_t(1) << 31;
// How long the worker polls for its next request before sleeping: back-to-back tasks of a map
// arrive within this and pay no wake-up system call.
constexpr std::int64_t kWorkerSpinNs = 30'000;
// Slot states: whoever moves a slot out of kPosted first decides whether its request runs.
constexpr std::uint32_t kPosted = 0, kTaken = 1, kTakenBack = 2;

[[noreturn]] void fail(const char* what) {
  throw Error(fmt::format("mpiply: isolation: {} failed: {}", what, std::strerror(errno)));
}

std::int64_t steady_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint32_t* word(std::atomic<std::uint32_t>& a) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace

struct ShmChannel::Slot {
  std::atomic<std::uint32_t> state;  // kPosted, then kTaken (worker) or kTakenBack (engine)
  std::uint64_t request_len;
  std::uint64_t reply_len;
  std::int64_t started_ns;
  std::uint32_t reply_flags;
};

struct ShmChannel::Control {
  alignas(64) std::atomic<std::uint32_t> posted;
  std::atomic<std::uint32_t> worker_asleep;
  alignas(64) std::atomic<std::uint32_t> taken;
  std::atomic<std::uint32_t> replied;
  std::atomic<std::uint32_t> engine_asleep;
  alignas(64) Slot slot[kMaxSlots];
};

ShmChannel::ShmChannel(unsigned slots)
    : slots_(slots < 1 ? 1 : slots > kMaxSlots ? kMaxSlots : slots), span_(kSlotSpan) {
  static_assert(sizeof(Control) <= kControlBytes);
  mem_fd_ = static_cast<int>(syscall(SYS_memfd_create, "mpiply-worker", 0u));
  if (mem_fd_ < 0) fail("memfd_create");
  mapped_ = kControlBytes + std::size_t(slots_) * span_;
  // Sparse: memfd memory is not reserved up front, only the pages written are allocated.
  if (ftruncate(mem_fd_, static_cast<off_t>(mapped_)) != 0) {
    close(mem_fd_);
    fail("ftruncate of the shared memory");
  }
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, mem_fd_, 0);
  if (p == MAP_FAILED) {
    close(mem_fd_);
    fail("mmap of the shared memory");
  }
  base_ = static_cast<char*>(p);
  event_fd_ = eventfd(0, EFD_NONBLOCK);
  if (event_fd_ < 0) {
    munmap(base_, mapped_);
    close(mem_fd_);
    fail("eventfd");
  }
  new (base_) Control{};  // the file is zeroed; this gives the atomics their lives
}

ShmChannel::~ShmChannel() {
  if (base_) munmap(base_, mapped_);
  if (mem_fd_ >= 0) close(mem_fd_);
  if (event_fd_ >= 0) close(event_fd_);
}

ShmChannel::Slot& ShmChannel::slot_of(std::uint32_t seq) const noexcept {
  return ctl()->slot[seq % slots_];
}

char* ShmChannel::data_of(std::uint32_t seq) const noexcept {
  return base_ + kControlBytes + std::size_t(seq % slots_) * span_;
}

void ShmChannel::post(std::uint32_t seq, std::span<const char> msg) {
  if (msg.size() > span_)
    throw Error(fmt::format("mpiply: isolation: a {}-byte task message does not fit the "
                            "worker's {}-byte slot",
                            msg.size(), span_));
  std::memcpy(data_of(seq), msg.data(), msg.size());
  slot_of(seq).request_len = msg.size();
  slot_of(seq).state.store(kPosted, std::memory_order_relaxed);  // published by `posted`
  Control* c = ctl();
  c->posted.store(seq, std::memory_order_seq_cst);
  if (c->worker_asleep.load(std::memory_order_seq_cst))
    syscall(SYS_futex, word(c->posted), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

bool ShmChannel::cancel(std::uint32_t seq) noexcept {
  std::uint32_t expected = kPosted;
  return slot_of(seq).state.compare_exchange_strong(expected, kTakenBack,
                                                    std::memory_order_acq_rel);
}

std::uint32_t ShmChannel::taken() const noexcept {
  return ctl()->taken.load(std::memory_order_acquire);
}

std::uint32_t ShmChannel::replied() const noexcept {
  return ctl()->replied.load(std::memory_order_acquire);
}

std::int64_t ShmChannel::started_ns(std::uint32_t seq) const noexcept {
  return slot_of(seq).started_ns;
}

std::span<const char> ShmChannel::reply(std::uint32_t seq, std::uint32_t& flags) const noexcept {
  const Slot& s = slot_of(seq);
  flags = s.reply_flags;
  return {data_of(seq), s.reply_len};
}

bool ShmChannel::begin_sleep(std::uint32_t read) noexcept {
  Control* c = ctl();
  c->engine_asleep.store(1, std::memory_order_seq_cst);
  if (c->replied.load(std::memory_order_seq_cst) != read) {
    c->engine_asleep.store(0, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void ShmChannel::end_sleep() noexcept {
  ctl()->engine_asleep.store(0, std::memory_order_relaxed);
  std::uint64_t v;
  ssize_t rc = read(event_fd_, &v, sizeof v);  // empties the counter (nonblocking)
  (void)rc;
}

bool ShmChannel::wait_request(int timeout_ms, std::span<const char>& msg) {
  Control* c = ctl();
  auto arrived = [&] { return c->posted.load(std::memory_order_acquire) != seen_; };
  for (;;) {
    if (!arrived()) {
      std::int64_t t0 = steady_now_ns();
      // Yield on every poll: the engine and rank 0 often want this core too (on 2 shared cores
      // yielding only beat pause-only and pause-then-yield: docs/benchmarks-log.md, last
      // section).
      while (!arrived() && steady_now_ns() - t0 <= kWorkerSpinNs) sched_yield();
    }
    if (!arrived()) {
      c->worker_asleep.store(1, std::memory_order_seq_cst);
      if (c->posted.load(std::memory_order_seq_cst) == seen_) {
        timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
        syscall(SYS_futex, word(c->posted), FUTEX_WAIT, seen_, &ts, nullptr, 0);
      }
      c->worker_asleep.store(0, std::memory_order_relaxed);
      if (!arrived()) return false;
    }
    // One request at a time, in order, even when several were posted.
    std::uint32_t seq = seen_ + 1;
    seen_ = seq;
    Slot& s = slot_of(seq);
    std::uint32_t expected = kPosted;
    bool mine = s.state.compare_exchange_strong(expected, kTaken, std::memory_order_acq_rel);
    s.started_ns = steady_now_ns();
    c->taken.store(seq, std::memory_order_release);
    if (mine) {
      msg = {data_of(seq), s.request_len};
      return true;
    }
    post_reply(0, kCancelled);  // the engine took it back and answers it itself
  }
}

char* ShmChannel::reply_buffer() noexcept { return data_of(seen_); }

void ShmChannel::post_reply(std::size_t n, std::uint32_t flags) {
  Slot& s = slot_of(seen_);
  s.reply_len = n;
  s.reply_flags = flags;
  Control* c = ctl();
  c->replied.store(seen_, std::memory_order_seq_cst);
  if (c->engine_asleep.load(std::memory_order_seq_cst)) {
    std::uint64_t one = 1;
    ssize_t rc = write(event_fd_, &one, sizeof one);
    (void)rc;
  }
}

}  // namespace mpiply::detail
