#pragma once
// The task table: one TaskRecord per task, indexed by msg id, never moved once created. Records
// live in blocks allocated on huge pages, each block a whole number of 2 MiB pages: a million
// tasks need ~48 MB of records, and faulting that in 4 KiB pages cost a quarter of a microsecond
// per task (cost per task then grew with the number of tasks).
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

// Blocks of T that never move.
template <class T>
class BlockTable {
 public:
  static constexpr std::size_t kBlockShift = block_shift_for(sizeof(T));
  static constexpr std::size_t kBlock = std::size_t(1) << kBlockShift;

  BlockTable() = default;
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;
  ~BlockTable() {
    for (std::size_t i = 0; i < size_; ++i) (*this)[i].~T();
    for (T* b : blocks_) free_bytes(b);
  }

  T& emplace_back() {
    if ((size_ >> kBlockShift) == blocks_.size()) {
      // At least 4 MiB, so that alloc_bytes puts the block on huge pages (bytes.cpp).
      std::size_t granted = 0;
      blocks_.push_back(static_cast<T*>(
          alloc_bytes(std::max(kBlock * sizeof(T), std::size_t(4) << 20), granted)));
    }
    T* r = new (&(*this)[size_]) T();
    ++size_;
    return *r;
  }
  T& operator[](std::size_t i) { return blocks_[i >> kBlockShift][i & (kBlock - 1)]; }
  const T& operator[](std::size_t i) const {
    return blocks_[i >> kBlockShift][i & (kBlock - 1)];
  }
  std::size_t size() const noexcept { return size_; }

 private:
  std::vector<T*> blocks_;
  std::size_t size_ = 0;
};

// A task's timestamps, ns on the clock of time.hpp; 0 = not yet.
struct TaskTimes {
  std::int64_t started = 0, completed = 0, received = 0;
};

class RecordTable : public BlockTable<TaskRecord> {
 public:
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
  std::unordered_map<const TaskRecord*, std::array<std::int64_t, 2>> wide_;
};

}  // namespace mpiply::detail
