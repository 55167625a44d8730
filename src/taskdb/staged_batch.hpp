#pragma once
// The task database's staging batch: what TaskDb::append fills on rank 0's thread and the writer
// thread packs and commits (batch_queue.hpp holds them, block_inserter.hpp commits them).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <mpiply/detail/bytes.hpp>

#include "taskdb/task_db.hpp"
#include "taskdb/block_encoder.hpp"

namespace mpiply::detail {

// A batch as append leaves it: rows copied field by field into fixed-size records, their names
// and error texts into `text`, their result bytes into `results`. Packing into the row format
// (varints, interned names) is left to the writer thread, off rank 0's dispatch path.
struct StagedRow {
  MsgId msg_id;
  ResumeKey key;
  std::int64_t submitted, started, completed, received, pid;
  std::uint64_t items, result_len;
  std::int32_t engine;
  std::uint32_t thread;
  std::uint32_t function_len, code_len, hostname_len, error_len;  // consecutive in `text`
  std::uint32_t function_name, code_name, host_name;  // TaskDb::name ids (0: the text is used)
  TaskStatus status;
  bool reused;
};

struct StagedBatch {
  std::vector<StagedRow> rows;
  Bytes text, results;
  std::uint64_t through = 0;  // the appended count once this batch is committed
  BlockEncoder packed;        // filled by the writer thread

  std::size_t count() const { return rows.size(); }
  void clear() {
    rows.clear();
    text.clear();
    results.clear();
    packed.clear();
  }
  // Copies row's fields, its texts (unless given as name ids) and its result bytes.
  void add(const TaskRow& row);
  // Packs the staged rows into `packed` (the row format of task_db_block.hpp, written by BlockEncoder); on the writer
  // thread. names: TaskDb::name's strings (id - 1), for the rows that give ids.
  void pack(bool checksums, std::span<const std::string* const> names);
};

}  // namespace mpiply::detail
