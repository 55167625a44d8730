#pragma once
// Who drives MPI on rank 0 and when: the user's thread while it waits on a result, the progress
// thread (progress_thread.hpp, owned here) while it does not, so `received` is stamped on
// arrival even when the user's code is busy. Both run progress_locked under the client lock;
// done callbacks run with it released, by whichever thread did the progress that finished them.
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "client/callback_queue.hpp"
#include "client/dispatcher.hpp"
#include "client/engine_links.hpp"
#include "client/hub_cap.hpp"
#include "client/progress_thread.hpp"
#include "client/task_queues.hpp"

namespace mpiply::detail {

class ProgressDriver {
 public:
  // Who runs posted callbacks: a user's thread inside a wait (between enter_wait_locked and
  // leave_wait_locked) stops driving progress while they run, so that the progress thread
  // keeps results coming in meanwhile.
  enum class RunBy { other, waiting_user };

  // mu: the client lock. The references outlive the driver (ClientCore owns all of them).
  ProgressDriver(std::mutex& mu, Dispatcher& dispatcher, TaskQueues& queues, EngineLinks& links,
                 HubCap& cap)
      : dispatcher_(dispatcher),
        queues_(queues),
        links_(links),
        cap_(cap),
        thread_(mu, [this](std::unique_lock<std::mutex>& lk) { return turn_locked(lk); },
                waiting_) {}

  // The progress thread: started once engines exist, stopped at shutdown. request_stop_locked
  // is asked under the lock, so that the thread does no more progress after the last result;
  // stop joins it, lock not held.
  void start() { thread_.start(); }
  void request_stop_locked() noexcept { thread_.request_stop_locked(); }
  void stop() { thread_.stop(); }
  // Wakes the progress thread if it sleeps until woken: a submission gave it work, or callbacks
  // were posted for it to run. Lock held.
  void wake_locked() { thread_.wake_locked(); }

  // One step: results taken in, queued tasks dispatched, the hub's cap applied. Whether
  // anything moved. Lock held.
  bool progress_locked();

  // A user's thread starts (and stops) driving progress itself, polling in a wait; the progress
  // thread stays out of its way meanwhile. Lock held.
  void enter_wait_locked() noexcept { ++waiting_; }
  void leave_wait_locked() noexcept { --waiting_; }

  // A finished result's done callback, to run once the lock is released (callback_queue.hpp):
  // by the thread that did the progress, or by the progress thread when woken. Lock held.
  void post_callback_locked(PendingCallback cb) { callbacks_.push_back(std::move(cb)); }
  // Runs the posted done callbacks with the lock released (held on entry and on return).
  void run_callbacks_locked(std::unique_lock<std::mutex>& lk, RunBy by = RunBy::other);

 private:
  // One turn of the progress thread: callbacks first, then a step unless a user's thread drives.
  ProgressTurn turn_locked(std::unique_lock<std::mutex>& lk);

  std::vector<PendingCallback> callbacks_;
  Dispatcher& dispatcher_;
  TaskQueues& queues_;
  EngineLinks& links_;
  HubCap& cap_;
  // User threads driving progress in a wait. Changed with the lock held; the progress thread
  // also reads it without the lock, to stay asleep while a user drives (progress_thread.hpp).
  std::atomic<int> waiting_{0};
  // Declared last: destroyed first, so the thread is joined before what its turns use goes.
  ProgressThread thread_;
};

}  // namespace mpiply::detail
