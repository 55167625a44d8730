// The engine <-> worker shared memory (shm_ring.hpp): made once per worker, before the fork, so
// that the child inherits the mapping and the eventfd.
#include "isolation/shm_ring.hpp"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {

// One MPI message is at most 2 GiB - 1 bytes (transport.hpp), so a slot of 2 GiB holds any
// task message and any result that may travel (a larger one is replaced before it is written).
constexpr std::size_t kSlotSpan = std::size_t(1) << 31;

[[noreturn]] void fail_shared_memory(const char* what) {
  throw Error(fmt::format("mpiply: isolation: {} failed: {}", what, std::strerror(errno)));
}

}  // namespace

ShmRing::ShmRing(unsigned slots)
    : slots_(slots < 1 ? 1 : slots > kMaxSlots ? kMaxSlots : slots), span_(kSlotSpan) {
  static_assert(sizeof(Control) <= kControlBytes);
  mem_fd_ = static_cast<int>(syscall(SYS_memfd_create, "mpiply-worker", 0u));
  if (mem_fd_ < 0) fail_shared_memory("memfd_create");
  mapped_ = kControlBytes + std::size_t(slots_) * span_;
  // Sparse: memfd memory is not reserved up front, only the pages written are allocated.
  if (ftruncate(mem_fd_, static_cast<off_t>(mapped_)) != 0) {
    close(mem_fd_);
    fail_shared_memory("ftruncate of the shared memory");
  }
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, mem_fd_, 0);
  if (p == MAP_FAILED) {
    close(mem_fd_);
    fail_shared_memory("mmap of the shared memory");
  }
  base_ = static_cast<char*>(p);
  event_fd_ = eventfd(0, EFD_NONBLOCK);
  if (event_fd_ < 0) {
    munmap(base_, mapped_);
    close(mem_fd_);
    fail_shared_memory("eventfd");
  }
  new (base_) Control{};  // the file is zeroed; this gives the atomics their lives
}

ShmRing::~ShmRing() {
  if (base_) munmap(base_, mapped_);
  if (mem_fd_ >= 0) close(mem_fd_);
  if (event_fd_ >= 0) close(event_fd_);
}

}  // namespace mpiply::detail
