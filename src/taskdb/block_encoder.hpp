#pragma once
// Writes one packed row of the task database (the layout is in task_db_block.hpp): each record
// appended to the meta blob as varints and deltas from the record before, its names numbered in
// the row's strings (BlockStrings), and the row's column counts kept as it goes (BlockCounts).
// It runs on the task database's writer thread, once per recorded task, off rank 0's dispatch
// path (staged_batch.hpp); the results blob is the staged batch's own, never copied here.
#include <cstdint>
#include <string>

#include <mpiply/detail/bytes.hpp>

#include "taskdb/block_counts.hpp"
#include "taskdb/block_strings.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class BlockEncoder {
 public:
  // Appends row's record; of its result only the length and checksum are written.
  void add(const TaskRow& row);
  // The strings blob; call once, after the last add.
  std::string finish_strings() const { return strings_.blob(); }
  // Ready for the next row, keeping the buffers' capacity.
  void clear();

  const Bytes& meta() const noexcept { return meta_; }
  const BlockCounts& counts() const noexcept { return counts_; }

  bool checksums = true;  // false: each record's result checksum is written as 0 (bench knob)

 private:
  Bytes meta_;
  BlockStrings strings_;
  BlockCounts counts_;
  // The deltas' bases: the previous record's msg id and the last time written.
  MsgId prev_msg_ = 0;
  std::int64_t prev_time_ = 0;
};

}  // namespace mpiply::detail
