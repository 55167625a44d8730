// Rank 0's side of ending with tasks still on engines (client_drain.hpp). A graceful drain
// (docs/drain.md): once a drain signal arrived, queued tasks never start (task_aborts.cpp fails
// them as TaskAborted, "not run"), tasks on engines get until the drain deadline, and what is
// still running then is marked not run too; the hooks that call this sit in client_core.cpp
// (submit, wait) and dispatcher.cpp. Shutdown: tasks on engines get the grace period, and what
// outlasts it is listed before the job ends.
#include "client/client_drain.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/run.hpp>

#include "runtime/drain.hpp"
#include "support/backoff.hpp"
#include "support/clock.hpp"

namespace mpiply::detail {

void ClientDrain::check_wait_locked() {
  r_.aborts.drain_locked();
  // Its result may still come.
  if (r_.queues.inflight() > 0 && steady_ns() < drain_deadline_ns()) return;
  throw_interrupted(r_.queues.inflight() > 0
                        ? "the drain grace ended before the task it waits for finished"
                        : "the task it waits for will not run");
}

bool ClientDrain::wait(std::int64_t deadline) {
  std::unique_lock lk(r_.mu);
  r_.aborts.drain_locked();
  Backoff b(kDrainBackoff);
  while (r_.queues.inflight() > 0) {
    if (r_.progress.progress_locked()) continue;
    if (steady_ns() >= deadline) break;
    lk.unlock();
    b.sleep();
    lk.lock();
  }
  if (r_.queues.inflight() == 0) return true;
  // Engines answer in order: the head of each ring is running, the others wait behind it.
  for (std::size_t e = 0; e < r_.links.slots().size(); ++e) {
    const EngineSlot& s = r_.links.slots()[e];
    for (unsigned k = 0; k < s.count; ++k) {
      MsgId id = s.ring[(s.head + k) % s.ring.size()].msg;
      TaskRecord& rec = r_.table.record(id);
      if (rec.status != TaskStatus::sent) continue;
      r_.results.fail_items_locked(rec, id, ErrorKind::aborted,
                                   fmt::format("{} on engine {} when the drain grace ended, so it "
                                               "did not finish; rerun the job to resume",
                                               k == 0 ? "still running" : "still waiting", e));
    }
  }
  return false;
}

std::string ClientDrain::summary() {
  std::unique_lock lk(r_.mu, std::defer_lock);
  // A task running inline on rank 0 holds the lock; the watchdog must not wait for it forever.
  for (int i = 0; i < 20 && !lk.try_lock(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const char* sig = drain_signal_name(drain_signal());
  std::string tail = fmt::format("every rank exits with code {} (interrupted): rerun the job to "
                                 "resume it",
                                 kExitInterrupted);
  if (!lk.owns_lock())
    return fmt::format("mpiply: interrupted by {}: task counts unavailable (a task running on "
                       "rank 0 holds the scheduler); {}",
                       sig, tail);
  std::size_t done = 0, failed = 0, not_run = 0;
  for (std::size_t i = 0; i < r_.table.records().size(); ++i) {
    TaskStatus st = r_.table.records()[i].status;
    if (st == TaskStatus::ok)
      ++done;
    else if (st == TaskStatus::error)
      ++failed;
    else
      ++not_run;
  }
  return fmt::format("mpiply: interrupted by {}: {} task(s) done, {} not run, {} failed; {}", sig,
                     done, not_run, failed, tail);
}

bool ClientDrain::finish_in_flight_locked(std::unique_lock<std::mutex>& lk,
                                          std::int64_t grace_ms) {
  // Tasks already on engines must finish: an engine only reads its stop message after them.
  // A task that never ends would hold the job forever, so the wait is bounded.
  Backoff b(kDrainBackoff);
  std::int64_t start = steady_ns();  // a wall-clock step must not cut or stretch the grace
  std::int64_t deadline = start + grace_ms * 1'000'000;
  std::int64_t notice_at = start + 10'000'000'000;
  while (r_.queues.inflight() > 0) {
    if (r_.progress.progress_locked()) continue;
    std::int64_t t = steady_ns();
    if (t >= deadline) {
      report_stuck_locked(grace_ms);
      return false;
    }
    if (t > notice_at) {
      std::fprintf(stderr, "mpiply: waiting for %zu task(s) still running on engines\n",
                   r_.queues.inflight());
      notice_at = t + 60'000'000'000;
    }
    lk.unlock();
    b.sleep();
    lk.lock();
  }
  return true;
}

// Tasks still on engines when the grace period ran out, one line each. Engines answer in order,
// so only the head of each ring is running; the others wait behind it on that engine.
void ClientDrain::report_stuck_locked(std::int64_t grace_ms) {
  std::string out = fmt::format(
      "mpiply: {} task(s) still on engines {:.3f} s after client_main ended "
      "(MPIPLY_SHUTDOWN_GRACE={:.3f}):\n",
      r_.queues.inflight(), grace_ms / 1e3, grace_ms / 1e3);
  for (std::size_t e = 0; e < r_.links.slots().size(); ++e) {
    const EngineSlot& s = r_.links.slots()[e];
    for (unsigned k = 0; k < s.count; ++k) {
      MsgId id = s.ring[(s.head + k) % s.ring.size()].msg;
      const Submission& sub = r_.table.submissions().submission(id);
      const std::string& name = r_.table.submissions().name(sub);
      std::string fn = name.empty() ? function_name(sub.fn_id) : name;
      const EngineInfo& info = r_.engines.engine_info(static_cast<int>(e));
      out += fmt::format("  engine {} (rank {} on {}, pid {}): '{}' msg id {} {}\n", e,
                         info.rank, info.hostname, info.pid, fn, id,
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

void throw_interrupted(const char* why) {
  int sig = drain_signal();
  throw Interrupted(fmt::format("mpiply: the job is draining after {}: {}. Return from "
                                "client_main (or let this propagate): mpiply::run then returns "
                                "{} on every rank, and a rerun resumes",
                                drain_signal_name(sig), why, kExitInterrupted),
                    sig);
}

}  // namespace mpiply::detail
