// Rank 0's coordinator (client_core.hpp): its components built and wired, submission, waiting for
// a result, and the orderly shutdown that drains engines before stopping them.
#include "client/client_core.hpp"

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/scheduling.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/run.hpp>

#include "client/client_drain.hpp"
#include "support/backoff.hpp"
#include "support/clock.hpp"
#include "support/trace_points.hpp"
#include "runtime/settings.hpp"
#include "scheduling/window_policy.hpp"

namespace mpiply::detail {

ClientCore::ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
                       bool client_runs_tasks)
    : roster_(comm, std::move(engines), hwm,
              settings().hwm_set ? hwm : static_cast<int>(WindowPolicy::kDeepWindow),
              client_runs_tasks),
      cap_(table_, sched_, live_, settings().hub_keep),
      links_(roster_, table_, results_, live_),
      dispatcher_(roster_, table_, sched_, links_, queues_, results_, db_, aborts_),
      aborts_(roster_, table_, sched_, links_, queues_, results_, hub_),
      results_(roster_, table_, links_, queues_, sched_, db_, cap_, live_),
      db_(mu_, roster_, table_, results_),
      hub_(roster_, table_, cap_, db_, results_, links_, sched_),
      sched_(dispatcher_, settings().scheme),
      progress_(mu_, dispatcher_, queues_, links_, cap_),
      rank0_{.mu = mu_,
             .engines = roster_,
             .table = table_,
             .live = live_,
             .cap = cap_,
             .links = links_,
             .queues = queues_,
             .aborts = aborts_,
             .results = results_,
             .db = db_,
             .hub = hub_,
             .progress = progress_,
             .scheduler = sched_} {
  sched_.reset_engines(roster_.num_engines(), static_cast<unsigned>(roster_.hwm()),
                       static_cast<unsigned>(roster_.deepest()));
  for (std::size_t e = 0; e < roster_.num_engines(); ++e)
    sched_.set_resources(static_cast<int>(e), roster_.engine_info(static_cast<int>(e)).resources);
}

void ClientCore::start_progress_thread() {
  if (!roster_.inline_mode()) progress_.start();
}

MsgId ClientCore::submit(std::shared_ptr<TaskSource> src) {
  std::unique_lock lk(mu_);
  MPIPLY_TRACE(submit_locked);
  if (queues_.closed())
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
    check_dependencies_in_hub_locked(table_, src->flags, function_name(src->fn_id).c_str());
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
  table_.submissions().add(src, std::move(state), src->first_msg, now,
                           cap_.keep() != UINT64_MAX);
  queues_.queued_more(src->ntasks);
  if (src->targets.empty() && has_scheduling_flags(src->flags)) {
    // The scheduler keeps it from here on.
    sched_.admit({.first = src->first_msg,
                  .ntasks = src->ntasks,
                  .engines = src->candidates,
                  .flags = src->flags,
                  .resources = request_of(src->flags),
                  .source = src},
                 steady_ns());
  } else if (!sched_.picker().plain_fast() && aborts_.refuse_retired_locked(src)) {
    // Some of its engines were shut down: its tasks failed.
  } else {
    dispatcher_.enqueue_locked(src);
  }
  // elapsed() counts from a steady stamp. With engines it is read after the send, where it
  // overlaps the task's flight instead of adding a clock read to every apply round trip;
  // inline, the tasks run inside dispatch, so it is read before.
  if (roster_.inline_mode()) st.submitted_steady_ns = steady_ns();
  MPIPLY_TRACE(dispatch);
  dispatcher_.dispatch_locked();
  if (!roster_.inline_mode()) st.submitted_steady_ns = steady_ns();
  // While this one's task is in flight: its call kept for resubmit, earlier applies' sources
  // freed.
  table_.submissions().keep_call(st.first_msg, src, st.fname);
  links_.free_spent_locked();
  cap_.maybe_cull_locked();  // inline, the tasks ran in dispatch
  if (!queues_.idle()) progress_.wake_locked();
  return st.first_msg;
}

bool ClientCore::wait(WaitPred pred, const void* ctx, const std::optional<Deadline>& deadline) {
  std::unique_lock lk(mu_);
  if (pred(ctx)) {
    MPIPLY_TRACE(wait_done);
    progress_.run_callbacks_locked(lk);
    return true;
  }
  progress_.enter_wait_locked();
  struct Leave {  // with the lock held: lk is destroyed after it
    ProgressDriver& p;
    ~Leave() { p.leave_wait_locked(); }
  } leave{progress_};
  Backoff b(kClientBackoff);
  for (;;) {
    bool moved = progress_.progress_locked();
    // Callbacks of results this thread just finished run here, on the waiting thread.
    progress_.run_callbacks_locked(lk, ProgressDriver::RunBy::waiting_user);
    if (pred(ctx)) {
      MPIPLY_TRACE(wait_done);
      return true;
    }
    if (drain_requested()) ClientDrain(rank0_).check_wait_locked();  // drain hook: may throw
    if (deadline && SteadyClock::now() >= *deadline) return false;
    if (!moved && queues_.idle())
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

bool ClientCore::shutdown(int& code, std::int64_t grace_ms) {
  bool drained;
  {
    std::unique_lock lk(mu_);
    queues_.close();
    aborts_.shutdown_locked();
    drained = ClientDrain(rank0_).finish_in_flight_locked(lk, grace_ms);
    progress_.request_stop_locked();
  }
  progress_.stop();
  {
    // Callbacks of the last results (and of tasks aborted above) still run, on this thread.
    std::unique_lock lk(mu_);
    progress_.run_callbacks_locked(lk);
  }
  // Every result is in: whether the database holds them all decides the code the engines get.
  code = db_.exit_code(code);
  if (!drained) return false;
  if (roster_.inline_mode()) return true;
  links_.close_and_stop(code);
  return true;
}

// The narrow interface of core.hpp.
std::mutex& core_mutex(ClientCore& core) { return core.rank0().mu; }
MsgId core_submit(ClientCore& core, std::shared_ptr<TaskSource> src) {
  return core.submit(std::move(src));
}
bool core_wait(ClientCore& core, WaitPred pred, const void* ctx,
               const std::optional<Deadline>& deadline) {
  return core.wait(pred, ctx, deadline);
}
std::vector<int> core_ids(const ClientCore& core) { return core.rank0().engines.ids(); }
bool core_client_runs_tasks(const ClientCore& core) {
  return core.rank0().engines.client_runs_tasks();
}

void with_client_lock(ClientCore& core, void (*f)(void*), void* arg) {
  std::lock_guard lk(core.rank0().mu);
  f(arg);
}

}  // namespace mpiply::detail
