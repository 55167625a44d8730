#pragma once
// The batches between TaskDb::append and the writer thread: the one being filled, the sealed
// ones waiting to be committed, and a few emptied ones kept so that a long run reuses their
// buffers instead of allocating new ones. No lock of its own: BatchWriter holds its lock around
// every call.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "taskdb/staged_batch.hpp"

namespace mpiply::detail {

class BatchQueue {
 public:
  using Batches = std::vector<std::unique_ptr<StagedBatch>>;

  // A batch is full at batch_rows tasks or batch_bytes result bytes, whichever comes first.
  BatchQueue(std::size_t batch_rows, std::size_t batch_bytes);
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Copies row into the batch being filled; true when that batch is now full.
  bool stage(const TaskRow& row);
  // Moves the batch being filled, if it holds any task, behind the waiting ones; `through`: the
  // appended count that is committed once it is.
  void seal(std::uint64_t through);
  std::size_t waiting() const noexcept { return sealed_.size(); }
  // Every waiting batch, oldest first.
  Batches take();
  // Takes back batches the writer finished with, emptied, to fill again.
  void recycle(Batches& done);
  // Drops every task not yet taken (the writer failed); returns how many.
  std::uint64_t discard();

 private:
  std::unique_ptr<StagedBatch> fresh();
  std::size_t batch_rows_, batch_bytes_;
  std::unique_ptr<StagedBatch> cur_;
  Batches sealed_, spare_;
};

}  // namespace mpiply::detail
