// Who drives MPI on rank 0 and when (progress_driver.hpp): one step of progress, the progress
// thread's turn, and the done callbacks run with the lock released.
#include "client/progress_driver.hpp"

#include <utility>

namespace mpiply::detail {

void ProgressDriver::run_callbacks_locked(std::unique_lock<std::mutex>& lk, RunBy by) {
  const int share = by == RunBy::waiting_user ? 1 : 0;
  while (!callbacks_.empty()) {
    std::vector<PendingCallback> cbs = std::exchange(callbacks_, {});
    waiting_ -= share;
    lk.unlock();
    run_callbacks(cbs);
    lk.lock();
    waiting_ += share;
  }
}

bool ProgressDriver::progress_locked() {
  bool moved = false;
  if (queues_.inflight() > 0) moved = links_.poll_results_locked();
  if (queues_.queued() > 0) {
    std::size_t before = queues_.queued();
    dispatcher_.dispatch_locked();
    moved = moved || queues_.queued() != before;
  }
  // Here, not as a task finishes: the code finishing it still reads its record.
  cap_.maybe_cull_locked();
  return moved;
}

ProgressTurn ProgressDriver::turn_locked(std::unique_lock<std::mutex>& lk) {
  if (!callbacks_.empty()) {
    // Results finished by the progress thread (or by an abort): their callbacks run on it.
    run_callbacks_locked(lk);
    return ProgressTurn::callbacks;
  }
  if (queues_.idle()) return ProgressTurn::idle;
  if (waiting_ == 0 && progress_locked()) return ProgressTurn::moved;
  return waiting_ > 0 ? ProgressTurn::users_driving : ProgressTurn::still;
}

}  // namespace mpiply::detail
