#pragma once
// Who drives MPI on rank 0 and when: the user's thread while it waits on a result, a progress
// thread while it does not, so `received` is stamped on arrival even when the user's code is
// busy. Both run progress_locked under the client lock; done callbacks run with it released.
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "client/callback_queue.hpp"
#include "client/dispatcher.hpp"
#include "client/engine_links.hpp"
#include "client/hub_cap.hpp"
#include "client/task_queues.hpp"

namespace mpiply::detail {

class ProgressDriver {
 public:
  // mu: the client lock. The references outlive the driver (ClientCore owns all of them).
  ProgressDriver(std::mutex& mu, Dispatcher& dispatcher, TaskQueues& queues, EngineLinks& links,
                 HubCap& cap)
      : mu_(mu), dispatcher_(dispatcher), queues_(queues), links_(links), cap_(cap) {}
  ~ProgressDriver();  // stops and joins the thread if it still runs
  ProgressDriver(const ProgressDriver&) = delete;
  ProgressDriver& operator=(const ProgressDriver&) = delete;

  void start();
  // The thread ends at its next look (shutdown asks under the lock, so that the thread does no
  // more progress after the last result). Lock held.
  void request_stop_locked() noexcept { stop_ = true; }
  // Stops the thread and joins it; lock not held.
  void stop();
  // One step: results taken in, queued tasks dispatched, the hub's cap applied. Whether
  // anything moved. Lock held.
  bool progress_locked();
  // A finished result's done callback, to run once the lock is released (callback_queue.hpp):
  // by the thread that did the progress, or by this one when woken. Lock held.
  void post_callback_locked(PendingCallback cb) { callbacks_.push_back(std::move(cb)); }
  // Runs the posted done callbacks with the lock released (lock held on entry and on return).
  // driving: the caller's share of the threads driving progress, given up meanwhile.
  void run_callbacks_locked(std::unique_lock<std::mutex>& lk, int driving);
  // The user's threads driving progress now (in wait); the progress thread stays out of their
  // way. Lock held.
  int& driving() noexcept { return driving_; }
  // Wakes the thread if it sleeps until signalled (idle for a while): a submission gave it
  // work, or callbacks were queued for it to run. Lock held.
  void wake_locked() {
    if (bg_idle_) cv_.notify_one();
  }

 private:
  void main();

  std::mutex& mu_;
  std::vector<PendingCallback> callbacks_;
  Dispatcher& dispatcher_;
  TaskQueues& queues_;
  EngineLinks& links_;
  HubCap& cap_;
  std::thread thread_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool bg_idle_ = false;
  int driving_ = 0;
};

}  // namespace mpiply::detail
