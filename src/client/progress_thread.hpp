#pragma once
// Rank 0's progress thread: it drives progress while no user thread waits on a result, so that
// `received` is stamped on arrival even when the user's code is busy. This class is the thread's
// life (started once, stopped at shutdown) and its pace between turns: poll again at once when a
// turn moved something, back off when it did not, step aside while a user's thread drives, keep
// looking by itself for a short while once nothing is out, then sleep until woken. What a turn
// does is the ProgressDriver's (progress_driver.hpp), which owns this thread.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace mpiply::detail {

// What one turn found; it decides how the thread waits before the next.
enum class ProgressTurn {
  callbacks,      // it ran done callbacks: look again at once
  moved,          // results came in or queued tasks went out: poll again at once
  still,          // work is out but nothing moved: back off
  users_driving,  // a user's thread drives progress in a wait: stay out of its way
  idle,           // nothing queued and nothing in flight
};

class ProgressThread {
 public:
  // One turn, called with mu held; it may release mu meanwhile but holds it again on return.
  using Turn = std::function<ProgressTurn(std::unique_lock<std::mutex>&)>;
  // mu: the client lock, which outlives the thread. users_driving: how many user threads drive
  // progress in a wait (the driver's count, outliving the thread), read without the lock.
  ProgressThread(std::mutex& mu, Turn turn, const std::atomic<int>& users_driving)
      : mu_(mu), turn_(std::move(turn)), users_driving_(users_driving) {}
  ~ProgressThread();  // stops and joins the thread if it still runs
  ProgressThread(const ProgressThread&) = delete;
  ProgressThread& operator=(const ProgressThread&) = delete;

  void start();
  // The thread ends at its next look, taking no further turn. Lock held.
  void request_stop_locked() noexcept { stop_.store(true, std::memory_order_relaxed); }
  // Stops the thread and joins it; lock not held.
  void stop();
  // Wakes the thread if it sleeps until woken (idle for a while). Lock held.
  void wake_locked() {
    if (asleep_) cv_.notify_one();
  }

 private:
  void main();
  // Sleeps `ns` with the lock released, then on while a user's thread drives progress: the lock
  // is taken again only when a turn may be needed. Lock held on entry and on return.
  void step_aside(std::unique_lock<std::mutex>& lk, long ns);

  std::mutex& mu_;
  Turn turn_;
  const std::atomic<int>& users_driving_;
  std::thread thread_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};  // set with the lock held; read by step_aside without it
  bool asleep_ = false;  // waiting on cv_ with no time limit
};

}  // namespace mpiply::detail
