// Allocation for Bytes: small buffers from malloc; large ones 2 MiB-aligned and advised for huge
// pages, because first-touching fresh 4 KiB pages is the slowest part of moving a big array.
#include <mpiply/detail/bytes.hpp>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <sys/mman.h>

namespace mpiply::detail {

namespace {
constexpr std::size_t kHuge = std::size_t(2) << 20;
constexpr std::size_t kHugeFrom = std::size_t(4) << 20;
}  // namespace

void advise_huge(void* p, std::size_t n) noexcept {
  auto b = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t lo = (b + kHuge - 1) & ~(kHuge - 1);
  std::uintptr_t hi = (b + n) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
}

void* alloc_bytes(std::size_t n, std::size_t& granted) {
  void* p = nullptr;
  if (n >= kHugeFrom) {
    if (n > SIZE_MAX - kHuge) throw std::bad_alloc();  // rounding up would wrap to a tiny size
    granted = (n + kHuge - 1) & ~(kHuge - 1);
    p = std::aligned_alloc(kHuge, granted);
    if (p) advise_huge(p, granted);
  } else {
    granted = n < 64 ? 64 : n;
    p = std::malloc(granted);
  }
  if (!p) throw std::bad_alloc();
  return p;
}

void free_bytes(void* p) noexcept { std::free(p); }

}  // namespace mpiply::detail
