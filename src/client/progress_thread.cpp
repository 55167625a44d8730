// Rank 0's progress thread (progress_thread.hpp): its loop, which paces the turns, and its
// start and stop.
#include "client/progress_thread.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <time.h>

#include <mpi.h>

#include <mpiply/run.hpp>

#include "support/backoff.hpp"
#include "support/clock.hpp"

namespace mpiply::detail {

namespace {

// The idle window (see main): how long the thread keeps looking by itself once nothing is out,
// and how often. kIdleLookNs is the progress back-off's longest sleep, so a result of a task
// submitted in that window is stamped `received` no later than while work was out.
constexpr std::int64_t kIdleGraceNs = 20'000'000;
constexpr std::int64_t kIdleLookNs = kProgressBackoff.max_sleep_ns;
// While a user's thread drives progress in a wait, how often the thread looks (without the lock)
// whether it still does. Each look is a wake-up, and where rank 0 is bound to one core (Open MPI
// binds each of 2 ranks to a core) the look takes that core from the user's loop for a context
// switch there and back, which a loop of apply().get() feels as its slowest calls. After a wait
// ends with work still out, the thread takes over within this time.
constexpr long kDrivingLookNs = 2'000'000;

}  // namespace

ProgressThread::~ProgressThread() { stop(); }

void ProgressThread::start() {
  thread_ = std::thread([this] { main(); });
}

void ProgressThread::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lk(mu_);
    stop_.store(true, std::memory_order_relaxed);
  }
  cv_.notify_all();
  thread_.join();
}

void ProgressThread::main() {
  std::unique_lock lk(mu_);
  Backoff b(kProgressBackoff);
  std::int64_t idle_since = 0;  // steady ns when nothing was left out; 0 while busy
  while (!stop_) {
    ProgressTurn turn = ProgressTurn::still;
    try {
      turn = turn_(lk);
    } catch (const std::exception& ex) {
      // Nothing above this thread could take the error: the job cannot go on without progress.
      std::fprintf(stderr, "mpiply: fatal error in the progress thread: %s\n", ex.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, kExitInternalError);
    }
    if (turn == ProgressTurn::callbacks) continue;
    if (turn == ProgressTurn::idle) {
      // Idle for a short while after work: look again every kIdleLookNs by itself instead of
      // waiting to be woken, so that a submission (the next apply of a loop of apply().get())
      // needs no futex wake and no hand-off of the lock to this thread: that hand-off was a
      // third of an apply round trip. Idle for longer: sleep until woken, costing nothing.
      std::int64_t now = steady_ns();
      if (idle_since == 0) idle_since = now;
      if (now - idle_since < kIdleGraceNs) {
        step_aside(lk, kIdleLookNs);
        continue;
      }
      asleep_ = true;
      cv_.wait(lk);
      asleep_ = false;
      idle_since = 0;
      b.reset();
      continue;
    }
    idle_since = 0;
    if (turn == ProgressTurn::moved) {
      b.reset();
      continue;
    }
    if (turn == ProgressTurn::still) {
      lk.unlock();
      b.sleep();
      lk.lock();
    } else {
      // The user's thread is polling; stay out of its way until it leaves.
      step_aside(lk, kDrivingLookNs);
    }
  }
}

// A user's thread in a wait holds the lock while it polls: taking the lock at a look would make
// this thread queue on it and the user's thread hand it over (a futex wake) as its wait ends.
// So while a user drives, the thread only sleeps and looks, every kDrivingLookNs.
void ProgressThread::step_aside(std::unique_lock<std::mutex>& lk, long ns) {
  lk.unlock();
  for (;;) {
    timespec ts{0, ns};
    nanosleep(&ts, nullptr);
    if (users_driving_.load(std::memory_order_relaxed) == 0 ||
        stop_.load(std::memory_order_relaxed))
      break;
    ns = kDrivingLookNs;
  }
  lk.lock();
}

}  // namespace mpiply::detail
