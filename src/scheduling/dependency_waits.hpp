#pragma once
// The scheduler's jobs waiting for other tasks to finish, by the msg id they wait on, and the
// finished tasks not yet counted. Counting one task's outcome may fail a job (its dependency
// became impossible), which finishes more tasks inside the count: those queue here and the
// outer count takes them, so the scheduler never re-enters itself (scheduler.hpp).
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scheduling/scheduler_job.hpp"

namespace mpiply::detail {

class DependencyWaits {
 public:
  bool empty() const noexcept { return waiters_.empty(); }
  void add(MsgId id, std::shared_ptr<Job> job) { waiters_[id].push_back(std::move(job)); }
  // The jobs waiting on id, which no longer wait here (none if no job did).
  std::vector<std::shared_ptr<Job>> take(MsgId id) {
    auto w = waiters_.find(id);
    if (w == waiters_.end()) return {};
    std::vector<std::shared_ptr<Job>> jobs = std::move(w->second);
    waiters_.erase(w);
    return jobs;
  }
  void clear() { waiters_.clear(); }

  // Queues a finished task; true if the caller is to count the queue (no count is under way).
  bool finished(MsgId id, const TaskOutcome& o) {
    done_.emplace_back(id, o);
    if (counting_) return false;
    counting_ = true;
    return true;
  }
  // The next finished task to count; false (and the count is over) when none is left.
  bool next(std::pair<MsgId, TaskOutcome>& out) {
    if (done_.empty()) {
      counting_ = false;
      return false;
    }
    out = done_.back();
    done_.pop_back();
    return true;
  }

 private:
  std::unordered_map<MsgId, std::vector<std::shared_ptr<Job>>> waiters_;
  std::vector<std::pair<MsgId, TaskOutcome>> done_;
  bool counting_ = false;
};

}  // namespace mpiply::detail
