// The hub's archived calls (call_archive.hpp).
#include "hub/call_archive.hpp"

#include <cstring>
#include <utility>

#include <mpiply/detail/bytes.hpp>

namespace mpiply::detail {

CallArchive::~CallArchive() {
  for (Block& b : blocks_) free_bytes(b.p);
  free_bytes(spare_);
}

void CallArchive::next_block() {
  // The block being filled is used again from its start once none of its calls is kept; any
  // other block went back when its last call was dropped.
  if (cur_ != kNoBlock && blocks_[cur_].live == 0) {
    blocks_[cur_].used = 0;
    return;
  }
  Block nb;
  if (spare_) {
    nb.p = std::exchange(spare_, nullptr);
  } else {
    std::size_t granted = 0;
    nb.p = static_cast<char*>(alloc_bytes(kBlockBytes, granted));
    ++allocated_;
  }
  held_ += kBlockBytes;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    if (!blocks_[b].p) {
      blocks_[b] = nb;
      cur_ = static_cast<std::uint32_t>(b);
      return;
    }
  }
  blocks_.push_back(nb);
  cur_ = static_cast<std::uint32_t>(blocks_.size() - 1);
}

CallArchive::Ref CallArchive::put(std::span<const char> msg, int target, std::uint32_t flags,
                                  bool has_references) {
  // Entries start 8-byte aligned, so that the head is read in place.
  std::size_t n = (sizeof(Head) + msg.size() + 7) & ~std::size_t(7);
  if (cur_ == kNoBlock || blocks_[cur_].used + n > kBlockBytes) next_block();
  Block& b = blocks_[cur_];
  char* at = b.p + b.used;
  Head h{static_cast<std::uint32_t>(msg.size()), target, flags, has_references ? 1u : 0u};
  std::memcpy(at, &h, sizeof h);
  std::memcpy(at + sizeof h, msg.data(), msg.size());
  Ref r = (Ref(cur_) << 32) | b.used;
  b.used += n;
  ++b.live;
  return r;
}

ArchivedCall CallArchive::get(Ref r) const {
  const char* at = blocks_[r >> 32].p + (r & 0xffffffffu);
  Head h;
  std::memcpy(&h, at, sizeof h);
  return {{at + sizeof h, h.len}, h.target, h.flags, h.refs != 0};
}

void CallArchive::drop(Ref r) {
  std::size_t k = r >> 32;
  Block& b = blocks_[k];
  if (--b.live != 0 || k == cur_) return;
  // One emptied block is kept for the next one, its pages already faulted in: a stream of calls
  // whose oldest are dropped as new ones come (the hub's cap) would otherwise fault in fresh
  // pages for every block it fills.
  if (spare_) free_bytes(b.p);
  else spare_ = b.p;
  b = Block{};
  held_ -= kBlockBytes;
}

}  // namespace mpiply::detail
