// The hub's kept values (result_store.hpp).
#include "hub/result_store.hpp"

#include <cstring>

#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

namespace {
// A single ok item of up to 8 bytes: u8 status, u32 length, the bytes (wire.hpp's item layout).
constexpr std::size_t kItemHead = 1 + 4;
bool packable(const char* p, std::size_t n) {
  if (n < kItemHead || n > kItemHead + 8 || static_cast<ItemStatus>(p[0]) != ItemStatus::ok)
    return false;
  std::uint32_t len = 0;
  std::memcpy(&len, p + 1, 4);
  return len == n - kItemHead;
}
}  // namespace

ResultStore::~ResultStore() {
  for (std::size_t i = 0; i < records_.size(); ++i) {
    const TaskRecord& r = records_[i];
    if (r.kept_len > kSharedMax && !(r.hub & (kKeptPacked | kKeptAdopted)))
      free_bytes(r.kept.own);
  }
  for (Block& b : blocks_) free_bytes(b.p);
}

std::string_view ResultStore::bytes(std::size_t i, Unpacked& buf) const {
  const TaskRecord& r = records_[i];
  if (r.hub & kKeptPacked) {
    buf[0] = static_cast<char>(ItemStatus::ok);
    std::uint32_t len = r.kept_len - static_cast<std::uint32_t>(kItemHead);
    std::memcpy(buf + 1, &len, 4);
    std::memcpy(buf + kItemHead, r.kept.bytes, len);
    return {buf, r.kept_len};
  }
  if (r.kept_len <= kInline) return {r.kept.bytes, r.kept_len};
  if (r.kept_len > kSharedMax) return {r.kept.own, r.kept_len};
  return {blocks_[r.kept.shared.block].p + r.kept.shared.offset, r.kept_len};
}

void ResultStore::keep(std::size_t i, const char* p, std::size_t n) {
  drop(i);
  TaskRecord& r = records_[i];
  if (packable(p, n)) {
    std::memcpy(r.kept.bytes, p + kItemHead, n - kItemHead);
    r.hub |= kKeptPacked;
  } else if (n <= kInline) {
    std::memcpy(r.kept.bytes, p, n);
  } else if (n > kSharedMax) {
    std::size_t granted = 0;
    r.kept.own = static_cast<char*>(alloc_bytes(n, granted));
    std::memcpy(r.kept.own, p, n);
    heap_ += n;
  } else {
    if (cur_ == kOwn || blocks_[cur_].used + n > kBlockBytes) {
      // A fresh block; an old one that is already empty is reused first.
      cur_ = kOwn;
      for (std::size_t b = 0; b < blocks_.size(); ++b)
        if (!blocks_[b].p) cur_ = static_cast<std::uint32_t>(b);
      if (cur_ == kOwn) {
        cur_ = static_cast<std::uint32_t>(blocks_.size());
        blocks_.emplace_back();
      }
      std::size_t granted = 0;
      blocks_[cur_].p = static_cast<char*>(alloc_bytes(kBlockBytes, granted));
      blocks_[cur_].used = blocks_[cur_].live = 0;
      heap_ += kBlockBytes;
    }
    Block& b = blocks_[cur_];
    r.kept.shared.block = cur_;
    r.kept.shared.offset = static_cast<std::uint32_t>(b.used);
    std::memcpy(b.p + b.used, p, n);
    b.used += (n + 7) & ~std::size_t(7);
    ++b.live;
  }
  r.kept_len = static_cast<std::uint32_t>(n);
}

void ResultStore::adopt(std::size_t i, Bytes&& buf, const char* p, std::size_t n) {
  if (n <= kSharedMax) return keep(i, p, n);
  drop(i);
  TaskRecord& r = records_[i];
  r.kept.own = const_cast<char*>(p);  // stays put: moving a Bytes keeps its memory
  r.kept_len = static_cast<std::uint32_t>(n);
  r.hub |= kKeptAdopted;
  heap_ += buf.capacity();
  adopted_.insert_or_assign(i, std::move(buf));
}

void ResultStore::drop(std::size_t i) {
  TaskRecord& r = records_[i];
  if (r.hub & kKeptPacked) {
    r.hub = static_cast<std::uint8_t>(r.hub & ~kKeptPacked);
  } else if (r.hub & kKeptAdopted) {
    r.hub = static_cast<std::uint8_t>(r.hub & ~kKeptAdopted);
    auto it = adopted_.find(i);
    heap_ -= it->second.capacity();
    adopted_.erase(it);
  } else if (r.kept_len > kSharedMax) {
    free_bytes(r.kept.own);
    heap_ -= r.kept_len;
  } else if (r.kept_len > kInline) {
    std::uint32_t block = r.kept.shared.block;
    if (Block& b = blocks_[block]; --b.live == 0) {
      if (block == cur_) {
        b.used = 0;  // keep filling it from the start
      } else {
        free_bytes(b.p);
        b.p = nullptr;
        heap_ -= kBlockBytes;
      }
    }
  }
  r.kept = KeptBytes{};
  r.kept_len = 0;
}

}  // namespace mpiply::detail
