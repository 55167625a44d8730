// The task database's writer thread and the waits on it (batch_writer.hpp).
#include "taskdb/batch_writer.hpp"

#include <fmt/format.h>

#include "taskdb/shared_connection.hpp"
#include "taskdb/task_db_schema.hpp"

namespace mpiply::detail {

BatchWriter::BatchWriter(const std::string& db_path, const TaskDbOptions& opt,
                         SharedConnection& conn, const NameTable& names, std::int64_t run,
                         bool checksums)
    : path_(db_path),
      opt_(opt),
      inserter_(conn, names, run, checksums),
      queue_(opt.batch_rows, opt.batch_bytes),
      writer_([this] { loop(); }) {}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::append(const TaskRow& row) {
  std::unique_lock lk(mu_);
  if (stopped_)
    throw UsageError(fmt::format("mpiply: task database '{}': append after close (msg {})", path_,
                                 row.msg_id));
  ++appended_;
  if (!failure_.empty()) {  // the writer failed: results stay in memory, the database lacks them
    ++dropped_;
    return;
  }
  if (queue_.stage(row)) {
    queue_.seal(appended_);
    wake_writer_.notify_one();
    // Back-pressure, so a writer slower than the results cannot grow memory without bound.
    committed_cv_.wait(lk, [&] {
      return queue_.waiting() < opt_.max_pending_rows || !failure_.empty();
    });
  }
}

void BatchWriter::loop() {
  std::unique_lock lk(mu_);
  auto due = SteadyClock::now() + opt_.batch_ms;
  for (;;) {
    wake_writer_.wait_until(lk, due, [&] { return stopped_ || queue_.waiting() != 0; });
    if (SteadyClock::now() >= due || stopped_) {
      // The time window: a partial batch is committed at most batch_ms after the last one.
      queue_.seal(appended_);
      due = SteadyClock::now() + opt_.batch_ms;
    }
    if (queue_.waiting() == 0) {
      if (stopped_) break;
      continue;
    }
    BatchQueue::Batches work = queue_.take();
    lk.unlock();
    std::string failed = inserter_.commit(work);
    lk.lock();
    if (failed.empty()) {
      committed_ = work.back()->through;
    } else if (failure_.empty()) {
      std::uint64_t lost = queue_.discard();
      for (const auto& b : work) lost += b->count();
      dropped_ += lost;
      failure_ = failed;
    }
    queue_.recycle(work);
    committed_cv_.notify_all();
  }
  inserter_.finish();
}

void BatchWriter::throw_failed_locked() {
  throw_db_error(path_,
                 fmt::format("could not be written ({}); {} task records are not in it", failure_,
                             dropped_),
                 "Results in memory are unaffected. Check the disk (space, permissions) and "
                 "run again");
}

void BatchWriter::flush() {
  std::unique_lock lk(mu_);
  if (!failure_.empty()) throw_failed_locked();
  if (stopped_ && !writer_.joinable()) return;
  queue_.seal(appended_);
  std::uint64_t target = appended_;
  wake_writer_.notify_one();
  committed_cv_.wait(lk, [&] { return committed_ >= target || !failure_.empty(); });
  if (!failure_.empty()) throw_failed_locked();
}

bool BatchWriter::wait_committed(std::uint64_t n, std::chrono::milliseconds bound) {
  std::unique_lock lk(mu_);
  return committed_cv_.wait_for(lk, bound, [&] { return committed_ >= n || !failure_.empty(); }) &&
         committed_ >= n;
}

void BatchWriter::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
}

TaskDbStats BatchWriter::stats() const {
  std::lock_guard lk(mu_);
  return {appended_, committed_, inserter_.rows(), inserter_.transactions(), 0};
}

}  // namespace mpiply::detail
