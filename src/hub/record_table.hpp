#pragma once
// The task table: one TaskRecord per task, indexed by msg id, never moved once created. Records
// live in blocks allocated on huge pages, each block a whole number of 2 MiB pages: a million
// tasks need ~48 MB of records, and faulting that in 4 KiB pages cost a quarter of a microsecond
// per task (cost per task then grew with the number of tasks). A record purged or culled from
// the hub is released; a block whose records are all released is freed, and its msg ids read as
// a tombstone and keep why they are gone (docs/hub.md, "Memory").
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/bytes.hpp>

#include "hub/task_record.hpp"

namespace mpiply::detail {

// The smallest power of two n >= 2^16 such that n * size fills whole 2 MiB pages (2^16 when
// none below 2^21 does), so that no block leaves part of a huge page unused.
constexpr std::size_t block_shift_for(std::size_t size) {
  for (std::size_t s = 16; s <= 21; ++s)
    if (((size << s) & ((std::size_t(2) << 20) - 1)) == 0) return s;
  return 16;
}

// Blocks of T that never move. An element is given back with release(i); once every element of
// a block was released, the block is destroyed and its memory goes back (one emptied block is
// kept as a spare for the next block, already faulted in), so a stream of tasks whose records
// are purged or culled holds only the blocks that still have a live element.
template <class T>
class BlockTable {
 public:
  static constexpr std::size_t kBlockShift = block_shift_for(sizeof(T));
  static constexpr std::size_t kBlock = std::size_t(1) << kBlockShift;

  BlockTable() = default;
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;
  ~BlockTable() {
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      if (!blocks_[b]) continue;
      std::size_t n = std::min(kBlock, size_ - (b << kBlockShift));
      for (std::size_t k = 0; k < n; ++k) blocks_[b][k].~T();
      free_bytes(blocks_[b]);
    }
    if (spare_) free_bytes(spare_);
  }

  T& emplace_back() {
    if ((size_ >> kBlockShift) == blocks_.size()) {
      blocks_.reserve(blocks_.size() + 1);  // so that neither push below can throw
      released_.reserve(blocks_.size() + 1);
      T* b = spare_;
      spare_ = nullptr;
      if (!b) {
        // At least 4 MiB, so that alloc_bytes puts the block on huge pages (bytes.cpp).
        std::size_t granted = 0;
        b = static_cast<T*>(alloc_bytes(std::max(kBlock * sizeof(T), std::size_t(4) << 20),
                                        granted));
      }
      blocks_.push_back(b);
      released_.push_back(0);
    }
    T* r = new (&blocks_[size_ >> kBlockShift][size_ & (kBlock - 1)]) T();
    ++size_;
    return *r;
  }
  // Element i of a block that was freed is gone: check present(i) first.
  T& operator[](std::size_t i) { return blocks_[i >> kBlockShift][i & (kBlock - 1)]; }
  const T& operator[](std::size_t i) const {
    return blocks_[i >> kBlockShift][i & (kBlock - 1)];
  }
  std::size_t size() const noexcept { return size_; }
  // Whether element i's block is still held (i < size()).
  bool present(std::size_t i) const noexcept { return blocks_[i >> kBlockShift] != nullptr; }
  // Marks element i (present, released at most once) as given back. Returns true when that was
  // the last live element of its block: the caller may read the block's elements once more,
  // then calls free_block(i).
  bool release(std::size_t i) noexcept { return ++released_[i >> kBlockShift] == kBlock; }
  void free_block(std::size_t i) noexcept {
    std::size_t b = i >> kBlockShift;
    for (std::size_t k = 0; k < kBlock; ++k) blocks_[b][k].~T();
    if (spare_) free_bytes(blocks_[b]);
    else spare_ = blocks_[b];
    blocks_[b] = nullptr;
    ++freed_;
  }
  // Blocks allocated and not freed (the spare not counted).
  std::size_t blocks_held() const noexcept { return blocks_.size() - freed_; }

 protected:
  std::vector<T*> blocks_;
  std::vector<std::uint32_t> released_;  // per block: elements released
  T* spare_ = nullptr;
  std::size_t size_ = 0, freed_ = 0;
};

// A task's timestamps, ns on the clock of time.hpp; 0 = not yet.
struct TaskTimes {
  std::int64_t started = 0, completed = 0, received = 0;
};

// Why a msg id's record is gone from the hub.
enum class Gone : std::uint8_t { no, purged, culled };

class RecordTable : public BlockTable<TaskRecord> {
 public:
  // A record of a freed block reads as a tombstone: finished, purged, no items, nothing kept, so
  // loops over every msg id (history, outstanding, wait_interactive) pass over it. Whoever names
  // the msg id asks gone() why it is gone.
  TaskRecord& operator[](std::size_t i) {
    if (TaskRecord* b = blocks_[i >> kBlockShift]) return b[i & (kBlock - 1)];
    tomb_ = tombstone();
    return tomb_;
  }
  const TaskRecord& operator[](std::size_t i) const {
    if (const TaskRecord* b = blocks_[i >> kBlockShift]) return b[i & (kBlock - 1)];
    static const TaskRecord kTomb = tombstone();
    return kTomb;
  }
  Gone gone(std::size_t i) const {
    if (const TaskRecord* b = blocks_[i >> kBlockShift]) {
      const TaskRecord& r = b[i & (kBlock - 1)];
      if (!(r.hub & kRecordPurged)) return Gone::no;
      return (r.hub & kCulled) ? Gone::culled : Gone::purged;
    }
    const Freed& f = freed_info_[i >> kBlockShift];
    if (!f.culled_bits.empty()) {
      std::size_t k = i & (kBlock - 1);
      return (f.culled_bits[k >> 6] >> (k & 63)) & 1 ? Gone::culled : Gone::purged;
    }
    return f.any_culled ? Gone::culled : Gone::purged;
  }
  // Gives record i back: purged from the hub, or culled when its hub bits have kCulled (the
  // caller set kRecordPurged and dropped its kept bytes). Its block goes once none is live.
  void release(std::size_t i) {
    TaskRecord& r = (*this)[i];
    if (r.d_completed == kWideTimes && !(r.hub & kReceivedOnly)) wide_.erase(&r);
    if (!BlockTable::release(i)) return;
    // Remember, for the msg ids of the block, whether they were purged or culled.
    std::size_t b = i >> kBlockShift;
    if (freed_info_.size() <= b) freed_info_.resize(b + 1);
    Freed& f = freed_info_[b];
    const TaskRecord* first = &(*this)[b << kBlockShift];
    std::size_t culled = 0;
    for (std::size_t k = 0; k < kBlock; ++k) culled += (first[k].hub & kCulled) != 0;
    f.any_culled = culled != 0;
    if (culled != 0 && culled != kBlock) {
      f.culled_bits.assign(kBlock / 64, 0);
      for (std::size_t k = 0; k < kBlock; ++k)
        if (first[k].hub & kCulled) f.culled_bits[k >> 6] |= std::uint64_t(1) << (k & 63);
    }
    free_block(i);
  }
  TaskTimes times(const TaskRecord& r) const {
    if (r.hub & kReceivedOnly) return {0, 0, r.t0};
    if (r.d_completed == kWideTimes) {
      const auto& w = wide_.at(&r);
      return {r.t0, w[0], w[1]};
    }
    std::int64_t completed = r.t0 + r.d_completed;
    return {r.t0, completed, completed + r.d_received};
  }
  void set_times(TaskRecord& r, const TaskTimes& t) {
    if (r.d_completed == kWideTimes && !(r.hub & kReceivedOnly)) wide_.erase(&r);
    r.hub = static_cast<std::uint8_t>(r.hub & ~kReceivedOnly);
    r.d_completed = r.d_received = 0;
    if (t.started == 0 && t.completed == 0) {
      r.hub |= kReceivedOnly;
      r.t0 = t.received;
      return;
    }
    r.t0 = t.started;
    // Engines' stamps come off the wire and may be anything (a corrupt or hostile message):
    // a difference that overflows goes to the side table like any other that does not fit.
    std::int64_t dc = 0, dr = 0;
    bool overflow = __builtin_sub_overflow(t.completed, t.started, &dc) ||
                    __builtin_sub_overflow(t.received, t.completed, &dr);
    if (!overflow && fits(dc) && fits(dr)) {
      r.d_completed = static_cast<std::int32_t>(dc);
      r.d_received = static_cast<std::int32_t>(dr);
    } else {
      r.d_completed = kWideTimes;
      wide_[&r] = {t.completed, t.received};
    }
  }
  void set_received(TaskRecord& r, std::int64_t received) {
    TaskTimes t = times(r);
    t.received = received;
    set_times(r, t);
  }
  // Tasks whose times are in the side table (those that ran over ~2 s, or whose engine's clock
  // is seconds off rank 0's).
  std::size_t wide_count() const noexcept { return wide_.size(); }

 private:
  static bool fits(std::int64_t d) { return d > INT32_MIN && d <= INT32_MAX; }
  static TaskRecord tombstone() {
    TaskRecord t;
    t.status = TaskStatus::ok;
    t.hub = kRecordPurged | kValuesPurged | kStateTaken;
    t.nitems = 0;
    return t;
  }
  // Per freed block: whether its records were culled or purged; a bit per record when both.
  struct Freed {
    bool any_culled = false;
    std::vector<std::uint64_t> culled_bits;
  };
  std::vector<Freed> freed_info_;
  TaskRecord tomb_;
  std::unordered_map<const TaskRecord*, std::array<std::int64_t, 2>> wide_;
};

}  // namespace mpiply::detail
