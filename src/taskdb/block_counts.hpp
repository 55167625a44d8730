#pragma once
// What a packed row's columns say about its records without unpacking them (task_db_schema.cpp,
// `blocks`): how many, how many ok / failed / reused, and the msg id range. The SQL pre-filter
// of a query skips rows by them (task_db_query.cpp) and each commit adds them to the run's
// totals (block_inserter.cpp).
#include <algorithm>
#include <cstdint>

#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class BlockCounts {
 public:
  void add(MsgId msg, TaskStatus status, bool reused) noexcept {
    if (count_ == 0) {
      min_msg_ = max_msg_ = msg;
    } else {
      min_msg_ = std::min(min_msg_, msg);
      max_msg_ = std::max(max_msg_, msg);
    }
    ++count_;
    if (status == TaskStatus::ok) ++ok_;
    else if (status == TaskStatus::error || status == TaskStatus::aborted) ++failed_;
    if (reused) ++reused_;
  }
  void clear() noexcept { *this = BlockCounts{}; }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t ok() const noexcept { return ok_; }
  // Error and aborted records: the ones a query for failures must read.
  std::uint64_t failed() const noexcept { return failed_; }
  std::uint64_t reused() const noexcept { return reused_; }
  // Both 0 in an empty row.
  MsgId min_msg() const noexcept { return min_msg_; }
  MsgId max_msg() const noexcept { return max_msg_; }

 private:
  std::uint64_t count_ = 0, ok_ = 0, failed_ = 0, reused_ = 0;
  MsgId min_msg_ = 0, max_msg_ = 0;
};

}  // namespace mpiply::detail
