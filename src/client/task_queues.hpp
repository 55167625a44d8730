#pragma once
// Rank 0's tasks not yet answered: the load-balanced queues, the engines that may have direct
// tasks to send, and two counts, queued (on rank 0, not yet sent: in these queues, an engine's
// direct queue or the scheduler) and inflight (sent, not yet answered). Whoever moves a task
// between those states says so here: the Dispatcher sends, the ResultHandler answers or queues
// a retry, TaskAborts fails queued ones. After shutdown the queues are closed: nothing enters
// again, not even a retry. Lock held throughout.
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "client/engine_links.hpp"

namespace mpiply::detail {

class TaskQueues {
 public:
  using Queue = std::deque<std::shared_ptr<TaskSource>>;

  // Load-balanced over every engine, and over a subset (a LoadBalancedView of some ids). Apart
  // so that the common all-engine queue keeps its O(1) head; the subsets go first, as they have
  // fewer choices. A source stays at its queue's head until its last task was taken.
  Queue& lb() noexcept { return lb_; }
  Queue& lb_subset() noexcept { return lb_subset_; }
  void push_plain(const std::shared_ptr<TaskSource>& src) {
    (src->candidates.empty() ? lb_ : lb_subset_).push_back(src);
  }

  // Engine e (its slot s) may have direct tasks to send: it was given some, or one of its tasks
  // was answered while it had more. Listed once until dispatch looks at it.
  void list_direct(EngineSlot& s, int e) {
    if (s.direct_listed) return;
    s.direct_listed = true;
    direct_ready_.push_back(e);
  }
  // The engines listed, for dispatch to take (it swaps them out, so that engines can be listed
  // again while it walks them).
  std::vector<int>& direct_ready() noexcept { return direct_ready_; }

  // n tasks entered the queued state (submitted, or a retry queued again).
  void queued_more(std::size_t n) noexcept { queued_ += n; }
  // A queued task left it: sent, or failed before it was sent.
  void left_queue() noexcept { --queued_; }
  void sent() noexcept { ++inflight_; }
  void answered() noexcept { --inflight_; }
  std::size_t queued() const noexcept { return queued_; }
  std::size_t inflight() const noexcept { return inflight_; }
  bool idle() const noexcept { return inflight_ == 0 && queued_ == 0; }

  // Once client_main returned: no submission, no retry (ClientCore::shutdown).
  void close() noexcept { closed_ = true; }
  bool closed() const noexcept { return closed_; }

 private:
  Queue lb_;
  Queue lb_subset_;
  std::vector<int> direct_ready_;
  std::size_t queued_ = 0;
  std::size_t inflight_ = 0;
  bool closed_ = false;
};

}  // namespace mpiply::detail
