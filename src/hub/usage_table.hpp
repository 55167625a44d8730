#pragma once
// Rank 0's record of what each captured task used (MPIPLY_CAPTURE, docs/output.md), by task
// index (msg id - base). Entries live in blocks that never move: a growing std::vector copied
// the whole table at every doubling and faulted in fresh memory each time: the largest cost
// capture added to rank 0's work per result in a chunksize-1 map of silent tasks
// (docs/benchmarks.md, "Capture cost, round 3"). A block holds 256 Ki entries of 24 bytes (6 MiB, on huge pages:
// bytes.cpp), filled in index order, so a map of silent tasks touches one new page per
// ~87,000 results.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply::detail {

class UsageTable {
 public:
  UsageTable() = default;
  UsageTable(const UsageTable&) = delete;
  UsageTable& operator=(const UsageTable&) = delete;
  ~UsageTable() {
    for (Entry* b : blocks_) free_bytes(b);
  }

  // Task i's record left the hub (purged or culled): once every index of a block was released,
  // the block goes back. Called at most once per index, recorded or not.
  void release(std::size_t i) {
    std::size_t b = i >> kShift;
    if (released_.size() <= b) released_.resize(b + 1, 0);
    if (++released_[b] != kBlock || b >= blocks_.size() || !blocks_[b]) return;
    free_bytes(blocks_[b]);
    blocks_[b] = nullptr;
  }

  // Records task i's use as the engine reported it (nanoseconds of CPU, bytes).
  void set(std::size_t i, std::int64_t user_ns, std::int64_t system_ns, std::int64_t max_rss) {
    while (size_ <= i) grow();
    if (!blocks_[i >> kShift]) return;  // released already (cannot happen before its result)
    // A negative peak (a corrupt message) is kept as 0: -1 marks an entry with nothing recorded.
    at(i) = Entry{user_ns, system_ns, std::max<std::int64_t>(max_rss, 0)};
  }

  std::optional<TaskUsage> get(std::size_t i) const {
    if (i >= size_ || !blocks_[i >> kShift]) return std::nullopt;
    const Entry& e = at(i);
    if (e.max_rss < 0) return std::nullopt;
    return TaskUsage{double(e.user_ns) / 1e9, double(e.system_ns) / 1e9, e.max_rss};
  }

 private:
  struct Entry {
    std::int64_t user_ns, system_ns, max_rss;
  };
  static constexpr std::size_t kShift = 18;
  static constexpr std::size_t kBlock = std::size_t(1) << kShift;

  Entry& at(std::size_t i) { return blocks_[i >> kShift][i & (kBlock - 1)]; }
  const Entry& at(std::size_t i) const { return blocks_[i >> kShift][i & (kBlock - 1)]; }

  // Makes entry size_ (empty), allocating its block when it starts one. A block whose every
  // index was released before it was reached is never allocated.
  void grow() {
    std::size_t b = size_ >> kShift;
    if (b == blocks_.size()) {
      blocks_.reserve(blocks_.size() + 1);  // so that the push below cannot throw
      if (b < released_.size() && released_[b] == kBlock) {
        blocks_.push_back(nullptr);
      } else {
        std::size_t granted = 0;
        blocks_.push_back(static_cast<Entry*>(alloc_bytes(kBlock * sizeof(Entry), granted)));
      }
    }
    if (blocks_[b]) at(size_) = Entry{0, 0, -1};
    ++size_;
  }

  std::vector<Entry*> blocks_;
  std::vector<std::uint32_t> released_;  // per block: indices released
  std::size_t size_ = 0;
};

}  // namespace mpiply::detail
