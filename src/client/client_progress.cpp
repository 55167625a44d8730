// Who drives MPI on rank 0 and when: the user's thread while it waits on a result, the progress
// thread otherwise; and the orderly shutdown that drains engines before stopping them.
#include <chrono>
#include <cstdio>
#include <utility>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/run.hpp>

#include "support/backoff.hpp"
#include "client/client_core.hpp"
#include "support/clock.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

namespace {

// The progress thread's idle window (see progress_main): how long it keeps looking by itself,
// and how often. kIdleLookNs is the progress back-off's longest sleep, so a result of a task
// submitted in that window is stamped `received` no later than before.
constexpr std::int64_t kIdleGraceNs = 20'000'000;
constexpr std::int64_t kIdleLookNs = kProgressBackoff.max_sleep_ns;

// Runs the queued done callbacks with the lock released (lock held on entry and on return).
// `driving` is the caller's share of driving_: given up while the callbacks run, so that the
// progress thread keeps results coming in meanwhile.
void drain_callbacks(ClientCore& core, std::unique_lock<std::mutex>& lk, int& driving_count,
                     int driving) {
  while (!core.ready_callbacks.empty()) {
    std::vector<PendingCallback> cbs = std::exchange(core.ready_callbacks, {});
    driving_count -= driving;
    lk.unlock();
    run_callbacks(cbs);
    lk.lock();
    driving_count += driving;
  }
}

}  // namespace

void ClientCore::callbacks_queued_locked() {
  if (bg_idle_) cv_.notify_one();
}

bool ClientCore::wait(WaitPred pred, const void* ctx, const std::optional<Deadline>& deadline) {
  std::unique_lock lk(mu);
  if (pred(ctx)) {
    drain_callbacks(*this, lk, driving_, 0);
    return true;
  }
  ++driving_;
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{driving_};
  Backoff b(kClientBackoff);
  for (;;) {
    bool moved = progress_locked();
    // Callbacks of results this thread just finished run here, on the waiting thread.
    if (!ready_callbacks.empty()) drain_callbacks(*this, lk, driving_, 1);
    if (pred(ctx)) return true;
    if (drain_requested()) drain_check_wait_locked();  // drain hook: may throw Interrupted
    if (deadline && SteadyClock::now() >= *deadline) return false;
    if (!moved && idle_locked())
      throw Error("mpiply: waiting for a result that no task will deliver (the client has shut "
                  "down, or the result was aborted)");
    if (moved) {
      b.reset();
    } else if (!b.spinning()) {
      lk.unlock();
      b.sleep();
      lk.lock();
    }
  }
}

void ClientCore::progress_main() {
  std::unique_lock lk(mu);
  Backoff b(kProgressBackoff);
  std::int64_t idle_since = 0;  // steady ns when nothing was left in flight; 0 while busy
  while (!stop_thread_) {
    if (!ready_callbacks.empty()) {
      // Results finished by this thread (or by an abort): their callbacks run here.
      drain_callbacks(*this, lk, driving_, 0);
      continue;
    }
    if (idle_locked()) {
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

// Tasks still on engines when the grace period ran out, one line each. Engines answer in order,
// so only the head of each ring is running; the others wait behind it on that engine.
void ClientCore::report_stuck_locked(std::int64_t grace_ms) {
  std::string out = fmt::format(
      "mpiply: {} task(s) still on engines {:.3f} s after client_main ended "
      "(MPIPLY_SHUTDOWN_GRACE={:.3f}):\n",
      inflight_, grace_ms / 1e3, grace_ms / 1e3);
  for (std::size_t e = 0; e < slots_.size(); ++e) {
    const EngineSlot& s = slots_[e];
    for (unsigned k = 0; k < s.count; ++k) {
      MsgId id = s.ring[(s.head + k) % s.ring.size()].msg;
      const Submission& sub = store_.submission(id);
      std::string fn = sub.fname.empty() ? function_name(sub.fn_id) : sub.fname;
      out += fmt::format("  engine {} (rank {} on {}, pid {}): '{}' msg id {} {}\n", e,
                         engines_[e].rank, engines_[e].hostname, engines_[e].pid, fn, id,
                         k == 0 ? "running" : "waiting behind it");
    }
  }
  out += fmt::format(
      "mpiply: ending the job with exit code {} (tasks that never finish cannot be stopped by a "
      "message); set MPIPLY_SHUTDOWN_GRACE to wait longer, or wait for results in client_main\n",
      kExitShutdownTimeout);
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

bool ClientCore::shutdown(int& code, std::int64_t grace_ms) {
  bool drained = true;
  {
    std::unique_lock lk(mu);
    shut_down_ = true;
    auto abort_task = [&](TaskSource& src, std::uint32_t t) {
      MsgId id = src.first_msg + t;
      if (record(id).status != TaskStatus::queued) return;  // aborted already (rc.abort)
      fail_items_locked(record(id), id, ErrorKind::aborted,
                        "client_main returned before this task was sent to an engine");
      --queued_;
    };
    for (auto* queue : {&lb_, &lb_subset_}) {
      for (auto& src : *queue)
        for (std::uint32_t t = src->next; t < src->ntasks; ++t) abort_task(*src, t);
      queue->clear();
    }
    for (auto& s : slots_) {
      for (auto& [src, t] : s.direct) abort_task(*src, t);
      s.direct.clear();
    }
    sched_.abort_all("client_main returned before this task was sent to an engine");
    // Tasks already on engines must finish: an engine only reads its stop message after them.
    // A task that never ends would hold the job forever, so the wait is bounded.
    Backoff b(kDrainBackoff);
    std::int64_t start = steady_ns();  // a wall-clock step must not cut or stretch the grace
    std::int64_t deadline = start + grace_ms * 1'000'000;
    std::int64_t notice_at = start + 10'000'000'000;
    while (inflight_ > 0) {
      if (progress_locked()) continue;
      std::int64_t t = steady_ns();
      if (t >= deadline) {
        report_stuck_locked(grace_ms);
        drained = false;
        break;
      }
      if (t > notice_at) {
        std::fprintf(stderr, "mpiply: waiting for %zu task(s) still running on engines\n",
                     inflight_);
        notice_at = t + 60'000'000'000;
      }
      lk.unlock();
      b.sleep();
      lk.lock();
    }
    stop_thread_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  {
    // Callbacks of the last results (and of tasks aborted above) still run, on this thread.
    std::unique_lock lk(mu);
    drain_callbacks(*this, lk, driving_, 0);
  }
  // Every result is in: whether the database holds them all decides the code the engines get.
  code = db_exit_code(code);
  if (!drained) return false;
  if (inline_) return true;
  local_engine_.reset();  // drained: its worker is idle
  inbox_.reset();
  abort_out_.reset();  // its sends complete: every engine still has its abort receive posted
  TaskHeader h{};
  h.kind = Kind::stop;
  h.fn_id = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
  for (int e = 0; e < mpi_engines_; ++e)
    mpi_check(MPI_Send(&h, sizeof h, MPI_BYTE, e + 1, kTagTask, comm_),
              "MPI_Send");
  return true;
}

}  // namespace mpiply::detail
