// The hub's kept values and submissions (result_store.hpp).
#include "result_store.hpp"

#include <algorithm>
#include <cstring>

#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

void ResultStore::add(const std::shared_ptr<TaskSource>& src, const ResultStateBase& st,
                      MsgId first) {
  for (std::uint32_t t = 0; t < src->ntasks; ++t) slots_.emplace_back();
  Submission& s = subs_.emplace_back();
  s.first = first;
  s.ntasks = src->ntasks;
  s.kept = src->ntasks;
  // Only calls can be run again; a push may borrow the caller's arrays, which are gone later.
  if (src->fn_id != 0) s.src = src;
  s.make = st.factory;
  s.type = st.value_type;
  s.fname = st.fname;
}

ResultStore::~ResultStore() {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].block == KeptSlot::kOwn && slots_[i].len > KeptSlot::kInline)
      free_bytes(slots_[i].u.own);
  for (Block& b : blocks_) free_bytes(b.p);
}

std::string_view ResultStore::bytes(std::size_t i) const {
  const KeptSlot& s = slots_[i];
  if (s.len <= KeptSlot::kInline) return {s.u.bytes, s.len};
  if (s.block == KeptSlot::kOwn || s.block == KeptSlot::kAdopted) return {s.u.own, s.len};
  return {blocks_[s.block].p + s.u.offset, s.len};
}

void ResultStore::keep(std::size_t i, const char* p, std::size_t n) {
  drop(i);
  KeptSlot& s = slots_[i];
  if (n <= KeptSlot::kInline) {
    std::memcpy(s.u.bytes, p, n);
  } else if (n > kSharedMax) {
    std::size_t granted = 0;
    s.block = KeptSlot::kOwn;
    s.u.own = static_cast<char*>(alloc_bytes(n, granted));
    std::memcpy(s.u.own, p, n);
    heap_ += n;
  } else {
    if (cur_ == KeptSlot::kOwn || blocks_[cur_].used + n > kBlockBytes) {
      // A fresh block; an old one that is already empty is reused first.
      cur_ = KeptSlot::kOwn;
      for (std::size_t b = 0; b < blocks_.size(); ++b)
        if (!blocks_[b].p) cur_ = static_cast<std::uint32_t>(b);
      if (cur_ == KeptSlot::kOwn) {
        cur_ = static_cast<std::uint32_t>(blocks_.size());
        blocks_.emplace_back();
      }
      std::size_t granted = 0;
      blocks_[cur_].p = static_cast<char*>(alloc_bytes(kBlockBytes, granted));
      blocks_[cur_].used = blocks_[cur_].live = 0;
      heap_ += kBlockBytes;
    }
    Block& b = blocks_[cur_];
    s.block = cur_;
    s.u.offset = b.used;
    std::memcpy(b.p + b.used, p, n);
    b.used += (n + 7) & ~std::size_t(7);
    ++b.live;
  }
  s.len = static_cast<std::uint32_t>(n);
}

void ResultStore::adopt(std::size_t i, Bytes&& buf, const char* p, std::size_t n) {
  drop(i);
  if (n <= KeptSlot::kInline) return keep(i, p, n);
  KeptSlot& s = slots_[i];
  s.block = KeptSlot::kAdopted;
  s.u.own = const_cast<char*>(p);  // stays put: moving a Bytes keeps its memory
  s.len = static_cast<std::uint32_t>(n);
  heap_ += buf.capacity();
  adopted_.insert_or_assign(i, std::move(buf));
}

void ResultStore::drop(std::size_t i) {
  KeptSlot& s = slots_[i];
  if (s.len > KeptSlot::kInline) {
    if (s.block == KeptSlot::kAdopted) {
      auto it = adopted_.find(i);
      heap_ -= it->second.capacity();
      adopted_.erase(it);
    } else if (s.block == KeptSlot::kOwn) {
      free_bytes(s.u.own);
      heap_ -= s.len;
    } else if (Block& b = blocks_[s.block]; --b.live == 0) {
      if (s.block == cur_) {
        b.used = 0;  // keep filling it from the start
      } else {
        free_bytes(b.p);
        b.p = nullptr;
        heap_ -= kBlockBytes;
      }
    }
  }
  s = KeptSlot{};
}

Submission& ResultStore::submission(MsgId id) {
  auto it = std::upper_bound(subs_.begin(), subs_.end(), id,
                             [](MsgId v, const Submission& s) { return v < s.first; });
  return *std::prev(it);  // callers checked that id is a known msg id
}

std::vector<Follower> ResultStore::take_followers(MsgId id) {
  std::vector<Follower> out;
  auto [b, e] = followers_.equal_range(id);
  for (auto it = b; it != e; ++it) out.push_back(std::move(it->second));
  followers_.erase(b, e);
  return out;
}

}  // namespace mpiply::detail
