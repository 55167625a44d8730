// Rank 0's coordinator (client_core.hpp): its components built and wired, submission, waiting for
// a result, the scheduler's answers carried out, and the orderly shutdown that drains engines
// before stopping them.
#include "client/client_core.hpp"

#include <cstdio>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/scheduling.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/run.hpp>

#include "support/backoff.hpp"
#include "support/clock.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

ClientCore::ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
                       bool client_runs_tasks)
    : roster_(comm, std::move(engines), hwm, client_runs_tasks),
      cap_(table_, sched_, live_, settings().hub_keep),
      links_(roster_, table_, results_, live_),
      dispatcher_(roster_, table_, sched_, links_, results_, db_, aborts_),
      aborts_(roster_, table_, sched_, links_, dispatcher_, results_, hub_),
      results_(roster_, table_, links_, dispatcher_, sched_, db_, cap_, live_, shut_down_),
      db_(mu, roster_, table_, results_),
      hub_(roster_, table_, cap_, db_, results_, links_, sched_),
      progress_(mu, ready_callbacks, dispatcher_, links_, cap_),
      sched_(static_cast<SchedulerSink&>(*this), settings().scheme) {
  sched_.reset_engines(roster_.num_engines(), static_cast<unsigned>(roster_.hwm()));
  for (std::size_t e = 0; e < roster_.num_engines(); ++e)
    sched_.set_resources(static_cast<int>(e), roster_.engine_info(static_cast<int>(e)).resources);
}

// The progress thread goes first: it uses every component.
ClientCore::~ClientCore() { progress_.stop(); }

void ClientCore::start_progress_thread() {
  if (!roster_.inline_mode()) progress_.start();
}

MsgId ClientCore::submit(std::shared_ptr<TaskSource> src) {
  std::unique_lock lk(mu);
  if (shut_down_)
    throw UsageError("mpiply: a task was submitted after mpiply::run returned; submit from "
                     "inside client_main");
  if (drain_requested()) throw_interrupted("no new task is accepted");  // drain hook
  if (!src->targets.empty() && request_of(src->flags).has_claims())
    throw UsageError("mpiply: a task with cores, gpus, memory or named resources in its flags was "
                     "sent to engines named by a DirectView; resource requests are placed by the "
                     "scheduler: use a load_balanced_view (docs/resources.md)");
  if (!src->team && src->flags.engines.value_or(1) > 1)
    throw UsageError(fmt::format(
        "mpiply: the engines flag is {} on a call that is not a team task; a team's result is "
        "its members' values, so only LoadBalancedView::apply_team(k, f, ...) and "
        "map_team(k, f, xs...) run them (map and a DirectView run one-engine tasks). Clear the "
        "flag ({{.engines = 1}}) or call apply_team / map_team",
        *src->flags.engines));
  if (src->targets.empty() && has_scheduling_flags(src->flags))
    check_dependencies_in_hub_locked(*this, src->flags, function_name(src->fn_id).c_str());
  std::int64_t now = now_ns();
  src->first_msg = table_.next_msg_locked();
  // The submission holds the state for its tasks (the hub keeps call sources for resubmit: the
  // source must not keep the values alive too).
  std::shared_ptr<ResultStateBase> state = std::move(src->state);
  auto& st = *state;
  st.first_msg = src->first_msg;
  st.ntasks = src->ntasks;
  for (std::uint32_t t = 0; t < src->ntasks; ++t) {
    TaskRecord& r = table_.records().emplace_back();
    r.first_item = src->item_begin(t);
    r.nitems = src->item_count(t);
  }
  table_.store().add(src, state, src->first_msg, now);
  dispatcher_.queued() += src->ntasks;
  if (src->targets.empty() && has_scheduling_flags(src->flags)) {
    // The scheduler keeps it from here on.
    sched_.admit({.first = src->first_msg,
                  .ntasks = src->ntasks,
                  .engines = src->candidates,
                  .flags = src->flags,
                  .resources = request_of(src->flags),
                  .source = src},
                 steady_ns());
  } else if (!sched_.plain_fast() && aborts_.refuse_retired_locked(src)) {
    // Some of its engines were shut down: its tasks failed.
  } else {
    dispatcher_.enqueue_locked(src);
  }
  // elapsed() counts from a steady stamp. With engines it is read after the send, where it
  // overlaps the task's flight instead of adding a clock read to every apply round trip;
  // inline, the tasks run inside dispatch, so it is read before.
  if (roster_.inline_mode()) st.submitted_steady_ns = steady_ns();
  dispatcher_.dispatch_locked();
  if (!roster_.inline_mode()) st.submitted_steady_ns = steady_ns();
  cap_.maybe_cull_locked();  // inline, the tasks ran in dispatch
  if (progress_.asleep_locked() && !dispatcher_.idle_locked()) progress_.wake_locked();
  return st.first_msg;
}

void ClientCore::place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
                       const Placement& where) {
  (void)id;  // send_task_locked finds it from the source
  if (!src->team) return dispatcher_.send_task_locked(where.engines.front(), src, task, where.grant);
  // Member i of the team is task + i (scheduler_teams.cpp), sent to where.engines[i].
  std::span<const int> team(where.engines.data(), where.engines.size());
  for (std::uint32_t i = 0; i < team.size(); ++i)
    dispatcher_.send_task_locked(team[i], src, task + i, where.grant, team);
}

void ClientCore::fail(MsgId id, ErrorKind kind, const std::string& why) {
  dispatcher_.fail_queued_locked(id, kind, why);
}

TaskOutcome ClientCore::outcome(MsgId id) const {
  const TaskRecord& r = table_.record(id);
  return {r.status, r.engine};
}

bool ClientCore::wait(WaitPred pred, const void* ctx, const std::optional<Deadline>& deadline) {
  std::unique_lock lk(mu);
  if (pred(ctx)) {
    progress_.run_callbacks_locked(lk, 0);
    return true;
  }
  ++progress_.driving();
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{progress_.driving()};
  Backoff b(kClientBackoff);
  for (;;) {
    bool moved = progress_.progress_locked();
    // Callbacks of results this thread just finished run here, on the waiting thread.
    if (!ready_callbacks.empty()) progress_.run_callbacks_locked(lk, 1);
    if (pred(ctx)) return true;
    if (drain_requested()) drain_check_wait_locked();  // drain hook: may throw Interrupted
    if (deadline && SteadyClock::now() >= *deadline) return false;
    if (!moved && dispatcher_.idle_locked())
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

// Tasks still on engines when the grace period ran out, one line each. Engines answer in order,
// so only the head of each ring is running; the others wait behind it on that engine.
void ClientCore::report_stuck_locked(std::int64_t grace_ms) {
  std::string out = fmt::format(
      "mpiply: {} task(s) still on engines {:.3f} s after client_main ended "
      "(MPIPLY_SHUTDOWN_GRACE={:.3f}):\n",
      dispatcher_.inflight(), grace_ms / 1e3, grace_ms / 1e3);
  for (std::size_t e = 0; e < links_.slots().size(); ++e) {
    const EngineSlot& s = links_.slots()[e];
    for (unsigned k = 0; k < s.count; ++k) {
      MsgId id = s.ring[(s.head + k) % s.ring.size()].msg;
      const Submission& sub = table_.store().submission(id);
      std::string fn = sub.fname.empty() ? function_name(sub.fn_id) : sub.fname;
      const EngineInfo& info = roster_.engine_info(static_cast<int>(e));
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

bool ClientCore::shutdown(int& code, std::int64_t grace_ms) {
  bool drained = true;
  {
    std::unique_lock lk(mu);
    shut_down_ = true;
    auto abort_task = [&](TaskSource& src, std::uint32_t t) {
      MsgId id = src.first_msg + t;
      if (table_.record(id).status != TaskStatus::queued) return;  // aborted already (rc.abort)
      results_.fail_items_locked(table_.record(id), id, ErrorKind::aborted,
                        "client_main returned before this task was sent to an engine");
      --dispatcher_.queued();
    };
    for (auto* queue : {&dispatcher_.lb(), &dispatcher_.lb_subset()}) {
      for (auto& src : *queue)
        for (std::uint32_t t = src->next; t < src->ntasks; ++t) abort_task(*src, t);
      queue->clear();
    }
    for (auto& s : links_.slots()) {
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
    while (dispatcher_.inflight() > 0) {
      if (progress_.progress_locked()) continue;
      std::int64_t t = steady_ns();
      if (t >= deadline) {
        report_stuck_locked(grace_ms);
        drained = false;
        break;
      }
      if (t > notice_at) {
        std::fprintf(stderr, "mpiply: waiting for %zu task(s) still running on engines\n",
                     dispatcher_.inflight());
        notice_at = t + 60'000'000'000;
      }
      lk.unlock();
      b.sleep();
      lk.lock();
    }
    progress_.request_stop_locked();
  }
  progress_.stop();
  {
    // Callbacks of the last results (and of tasks aborted above) still run, on this thread.
    std::unique_lock lk(mu);
    progress_.run_callbacks_locked(lk, 0);
  }
  // Every result is in: whether the database holds them all decides the code the engines get.
  code = db_.exit_code(code);
  if (!drained) return false;
  if (roster_.inline_mode()) return true;
  links_.close_and_stop(code);
  return true;
}

// The narrow interface of core.hpp.
std::mutex& core_mutex(ClientCore& core) { return core.mu; }
MsgId core_submit(ClientCore& core, std::shared_ptr<TaskSource> src) {
  return core.submit(std::move(src));
}
bool core_wait(ClientCore& core, WaitPred pred, const void* ctx,
               const std::optional<Deadline>& deadline) {
  return core.wait(pred, ctx, deadline);
}
std::vector<int> core_ids(const ClientCore& core) { return core.engines().ids(); }
bool core_client_runs_tasks(const ClientCore& core) { return core.engines().client_runs_tasks(); }

void with_client_lock(ClientCore& core, void (*f)(void*), void* arg) {
  std::lock_guard lk(core.mu);
  f(arg);
}

}  // namespace mpiply::detail
