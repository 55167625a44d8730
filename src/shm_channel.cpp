// The engine <-> worker shared memory (shm_channel.hpp). Ordering: each side publishes its
// message with a seq_cst store of its counter and then reads the other side's "asleep" word; the
// sleeper stores "asleep" and then reads the counter again. In the single total order of seq_cst
// operations one of the two sees the other's store, so no wake-up is lost; the futex call checks
// the counter once more in the kernel.
#include "shm_channel.hpp"

#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {

constexpr std::size_t kControlBytes = 4096;
constexpr std::size_t kInitialCapacity = std::size_t(256) << 10;
constexpr std::size_t kGrain = std::size_t(64) << 10;
// How long the worker polls for its next request before sleeping: back-to-back tasks of a map
// arrive within this and pay no wake-up system call.
constexpr std::int64_t kWorkerSpinNs = 30'000;

[[noreturn]] void fail(const char* what) {
  throw Error(fmt::format("mpiply: isolation: {} failed: {}", what, std::strerror(errno)));
}

std::int64_t steady_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

std::uint32_t* word(std::atomic<std::uint32_t>& a) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace

struct ShmChannel::Control {
  alignas(64) std::atomic<std::uint32_t> request_seq;
  std::atomic<std::uint32_t> taken_seq;
  std::atomic<std::uint32_t> worker_asleep;
  std::uint64_t request_len;
  alignas(64) std::atomic<std::uint32_t> reply_seq;
  std::atomic<std::uint32_t> engine_asleep;
  std::uint32_t reply_flags;
  std::uint64_t reply_len;
  alignas(64) std::atomic<std::uint64_t> capacity;  // bytes of the data area
};


ShmChannel::ShmChannel() {
  mem_fd_ = static_cast<int>(syscall(SYS_memfd_create, "mpiply-worker", 0u));
  if (mem_fd_ < 0) fail("memfd_create");
  if (ftruncate(mem_fd_, static_cast<off_t>(kControlBytes + kInitialCapacity)) != 0) {
    close(mem_fd_);
    fail("ftruncate of the shared memory");
  }
  mapped_ = kControlBytes + kInitialCapacity;
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd_, 0);
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
  static_assert(sizeof(Control) <= kControlBytes);
  new (base_) Control{};  // the file is zeroed; this gives the atomics their lives
  ctl()->capacity.store(kInitialCapacity, std::memory_order_release);
}

ShmChannel::~ShmChannel() {
  if (base_) munmap(base_, mapped_);
  if (mem_fd_ >= 0) close(mem_fd_);
  if (event_fd_ >= 0) close(event_fd_);
}

char* ShmChannel::data() const noexcept { return base_ + kControlBytes; }

void ShmChannel::follow() {
  std::size_t want = kControlBytes + ctl()->capacity.load(std::memory_order_acquire);
  if (want <= mapped_) return;
  void* p = mremap(base_, mapped_, want, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) fail("mremap of the shared memory");
  base_ = static_cast<char*>(p);
  mapped_ = want;
}

void ShmChannel::ensure(std::size_t n) {
  follow();
  std::size_t cap = ctl()->capacity.load(std::memory_order_relaxed);
  if (n <= cap) return;
  std::size_t grown = std::max(n, 2 * cap);
  grown = (grown + kGrain - 1) / kGrain * kGrain;
  if (ftruncate(mem_fd_, static_cast<off_t>(kControlBytes + grown)) != 0)
    fail(fmt::format("growing the shared memory to {} bytes", grown).c_str());
  void* p = mremap(base_, mapped_, kControlBytes + grown, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) fail("mremap of the shared memory");
  base_ = static_cast<char*>(p);
  mapped_ = kControlBytes + grown;
  ctl()->capacity.store(grown, std::memory_order_release);
}

std::uint32_t ShmChannel::post_request(std::span<const char> msg) {
  ensure(msg.size());
  std::memcpy(data(), msg.data(), msg.size());
  Control* c = ctl();
  c->request_len = msg.size();
  std::uint32_t seq = c->request_seq.load(std::memory_order_relaxed) + 1;
  c->request_seq.store(seq, std::memory_order_seq_cst);
  if (c->worker_asleep.load(std::memory_order_seq_cst))
    syscall(SYS_futex, word(c->request_seq), FUTEX_WAKE, 1, nullptr, nullptr, 0);
  return seq;
}

bool ShmChannel::taken(std::uint32_t seq) const noexcept {
  return ctl()->taken_seq.load(std::memory_order_acquire) == seq;
}

bool ShmChannel::replied(std::uint32_t seq) const noexcept {
  return ctl()->reply_seq.load(std::memory_order_acquire) == seq;
}

std::span<const char> ShmChannel::reply(std::uint32_t& flags) {
  follow();
  flags = ctl()->reply_flags;
  return {data(), ctl()->reply_len};
}

bool ShmChannel::begin_sleep(std::uint32_t seq) noexcept {
  Control* c = ctl();
  c->engine_asleep.store(1, std::memory_order_seq_cst);
  if (c->reply_seq.load(std::memory_order_seq_cst) == seq) {
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
  auto arrived = [&] { return c->request_seq.load(std::memory_order_acquire) != seen_; };
  if (!arrived()) {
    std::int64_t t0 = steady_now_ns();
    for (int i = 0; !arrived(); ++i) {
      if (i < 256) {
        cpu_relax();
        continue;
      }
      if (steady_now_ns() - t0 > kWorkerSpinNs) break;
      sched_yield();
    }
  }
  if (!arrived()) {
    c->worker_asleep.store(1, std::memory_order_seq_cst);
    if (c->request_seq.load(std::memory_order_seq_cst) == seen_) {
      timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
      syscall(SYS_futex, word(c->request_seq), FUTEX_WAIT, seen_, &ts, nullptr, 0);
    }
    c->worker_asleep.store(0, std::memory_order_relaxed);
    if (!arrived()) return false;
  }
  seen_ = c->request_seq.load(std::memory_order_acquire);
  c->taken_seq.store(seen_, std::memory_order_release);
  follow();  // may move the mapping: c is stale after it
  msg = {data(), ctl()->request_len};
  return true;
}

char* ShmChannel::reply_buffer(std::size_t n) {
  ensure(n);
  return data();
}

void ShmChannel::post_reply(std::size_t n, std::uint32_t flags) {
  Control* c = ctl();
  c->reply_len = n;
  c->reply_flags = flags;
  c->reply_seq.store(seen_, std::memory_order_seq_cst);
  if (c->engine_asleep.load(std::memory_order_seq_cst)) {
    std::uint64_t one = 1;
    ssize_t rc = write(event_fd_, &one, sizeof one);
    (void)rc;
  }
}

}  // namespace mpiply::detail
