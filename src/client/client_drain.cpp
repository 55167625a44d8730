// Rank 0's side of a graceful drain (docs/drain.md): once a drain signal arrived, queued tasks
// never start (they fail as TaskAborted, "not run"), tasks on engines get until the drain
// deadline, and what is still running then is marked not run too. The hooks that call these sit
// in client_core.cpp (submit, wait) and dispatcher.cpp; task_aborts.cpp fails the queued tasks.
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include <mpiply/errors.hpp>
#include <mpiply/run.hpp>

#include "support/backoff.hpp"
#include "client/client_core.hpp"
#include "support/clock.hpp"
#include "runtime/drain.hpp"

namespace mpiply::detail {

void ClientCore::drain_check_wait_locked() {
  aborts_.drain_locked();
  // Its result may still come.
  if (dispatcher_.inflight() > 0 && steady_ns() < drain_deadline_ns()) return;
  throw_interrupted(dispatcher_.inflight() > 0
                        ? "the drain grace ended before the task it waits for finished"
                        : "the task it waits for will not run");
}

bool ClientCore::drain_wait(std::int64_t deadline) {
  std::unique_lock lk(mu);
  aborts_.drain_locked();
  Backoff b(kDrainBackoff);
  while (dispatcher_.inflight() > 0) {
    if (progress_.progress_locked()) continue;
    if (steady_ns() >= deadline) break;
    lk.unlock();
    b.sleep();
    lk.lock();
  }
  if (dispatcher_.inflight() == 0) return true;
  // Engines answer in order: the head of each ring is running, the others wait behind it.
  for (std::size_t e = 0; e < links_.slots().size(); ++e) {
    const EngineSlot& s = links_.slots()[e];
    for (unsigned k = 0; k < s.count; ++k) {
      MsgId id = s.ring[(s.head + k) % s.ring.size()].msg;
      TaskRecord& rec = table_.record(id);
      if (rec.status != TaskStatus::sent) continue;
      results_.fail_items_locked(rec, id, ErrorKind::aborted,
                        fmt::format("{} on engine {} when the drain grace ended, so it did not "
                                    "finish; rerun the job to resume",
                                    k == 0 ? "still running" : "still waiting", e));
    }
  }
  return false;
}

std::string ClientCore::drain_summary() {
  std::unique_lock lk(mu, std::defer_lock);
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
  for (std::size_t i = 0; i < table_.records().size(); ++i) {
    TaskStatus st = table_.records()[i].status;
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

void throw_interrupted(const char* why) {
  int sig = drain_signal();
  throw Interrupted(fmt::format("mpiply: the job is draining after {}: {}. Return from "
                                "client_main (or let this propagate): mpiply::run then returns "
                                "{} on every rank, and a rerun resumes",
                                drain_signal_name(sig), why, kExitInterrupted),
                    sig);
}

}  // namespace mpiply::detail
