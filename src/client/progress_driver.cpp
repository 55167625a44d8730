// Who drives MPI on rank 0 and when (progress_driver.hpp): the progress thread's loop, one step of
// progress, and the done callbacks run with the lock released.
#include "client/progress_driver.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

#include <mpiply/run.hpp>

#include "support/backoff.hpp"
#include "support/clock.hpp"

namespace mpiply::detail {

namespace {

// The progress thread's idle window (see progress_main): how long it keeps looking by itself,
// and how often. kIdleLookNs is the progress back-off's longest sleep, so a result of a task
// submitted in that window is stamped `received` no later than before.
constexpr std::int64_t kIdleGraceNs = 20'000'000;
constexpr std::int64_t kIdleLookNs = kProgressBackoff.max_sleep_ns;

}  // namespace

ProgressDriver::~ProgressDriver() { stop(); }

void ProgressDriver::start() {
  thread_ = std::thread([this] { main(); });
}

void ProgressDriver::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

// `driving` is the caller's share of driving_: given up while the callbacks run, so that the
// progress thread keeps results coming in meanwhile.
void ProgressDriver::run_callbacks_locked(std::unique_lock<std::mutex>& lk, int driving) {
  while (!callbacks_.empty()) {
    std::vector<PendingCallback> cbs = std::exchange(callbacks_, {});
    driving_ -= driving;
    lk.unlock();
    run_callbacks(cbs);
    lk.lock();
    driving_ += driving;
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

void ProgressDriver::main() {
  std::unique_lock lk(mu_);
  Backoff b(kProgressBackoff);
  std::int64_t idle_since = 0;  // steady ns when nothing was left in flight; 0 while busy
  while (!stop_) {
    if (!callbacks_.empty()) {
      // Results finished by this thread (or by an abort): their callbacks run here.
      run_callbacks_locked(lk, 0);
      continue;
    }
    if (queues_.idle()) {
      // Idle for a short while after work: look again every kIdleLookNs by itself instead of
      // waiting to be signalled, so that a submission (the next apply of a loop of
      // apply().get()) needs no futex wake and no hand-off of the lock to this thread: that
      // hand-off was a third of an apply round trip. Idle for longer: sleep until signalled
      // (bg_idle_), costing nothing.
      std::int64_t now = steady_ns();
      if (idle_since == 0) idle_since = now;
      if (now - idle_since < kIdleGraceNs) {
        cv_.wait_for(lk, std::chrono::nanoseconds(kIdleLookNs));
        continue;
      }
      bg_idle_ = true;
      cv_.wait(lk);
      bg_idle_ = false;
      idle_since = 0;
      b.reset();
      continue;
    }
    idle_since = 0;
    if (driving_ == 0) {
      bool moved = false;
      try {
        moved = progress_locked();
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "mpiply: fatal error in the progress thread: %s\n", ex.what());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, kExitInternalError);
      }
      if (moved) {
        b.reset();
        continue;
      }
    }
    bool user_driving = driving_ > 0;
    lk.unlock();
    if (!user_driving) {
      b.sleep();
    } else {
      // The user's thread is polling; stay out of its way until it leaves.
      timespec ts{0, static_cast<long>(kProgressBackoff.max_sleep_ns)};
      nanosleep(&ts, nullptr);
    }
    lk.lock();
  }
}

}  // namespace mpiply::detail
