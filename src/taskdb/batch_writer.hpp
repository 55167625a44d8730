#pragma once
// The task database's writer thread and its hand-off from append: append copies a task into the
// queue's current batch and returns; the thread commits sealed batches (when full, or batch_ms
// after the last commit) through the BlockInserter. flush and wait_committed wait on what it
// committed; a failed write is kept and thrown by flush, never by append (docs/database.md).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "taskdb/batch_queue.hpp"
#include "taskdb/block_inserter.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class BatchWriter {
 public:
  // Starts the writer thread, which commits through inserter's connection.
  BatchWriter(const std::string& db_path, const TaskDbOptions& opt, SharedConnection& conn,
              const NameTable& names, std::int64_t run, bool checksums);
  ~BatchWriter();  // stop()
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // TaskDb::append: waits only when max_pending_rows sealed batches wait; after stop() throws.
  void append(const TaskRow& row);
  // Returns once everything appended so far is committed; throws UsageError if the writer failed
  // (also after stop()).
  void flush();
  bool wait_committed(std::uint64_t n, std::chrono::milliseconds bound);
  // Commits what is staged, then ends the thread. Later calls do nothing.
  void stop();
  // appended, committed, rows and transactions (reused is the resume index's).
  TaskDbStats stats() const;

 private:
  void loop();
  [[noreturn]] void throw_failed_locked();

  const std::string& path_;
  TaskDbOptions opt_;
  BlockInserter inserter_;  // the writer thread's only
  mutable std::mutex mu_;   // everything below
  std::condition_variable wake_writer_, committed_cv_;
  BatchQueue queue_;
  std::uint64_t appended_ = 0, committed_ = 0;
  bool stopped_ = false;
  std::string failure_;  // set by the writer thread; appends after it are dropped
  std::uint64_t dropped_ = 0;
  std::thread writer_;  // last: it starts once everything above is built
};

}  // namespace mpiply::detail
