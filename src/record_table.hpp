#pragma once
// The task table: one TaskRecord per task, indexed by msg id, never moved once created. Records
// live in blocks of 64 Ki records allocated on huge pages: a million tasks need ~80 MB of records,
// and faulting that in 4 KiB pages cost a quarter of a microsecond per task (cost per task then
// grew with the number of tasks).
#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

#include <mpiply/detail/bytes.hpp>

#include "task_record.hpp"

namespace mpiply::detail {

// Blocks of T that never move; RecordTable (below) and the result store's slots use it.
template <class T>
class BlockTable {
 public:
  static constexpr std::size_t kBlockShift = 16;
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

using RecordTable = BlockTable<TaskRecord>;

}  // namespace mpiply::detail
