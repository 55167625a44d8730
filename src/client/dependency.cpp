// The user-facing edge of the scheduler: Dependency built from result handles, the checks a
// LoadBalancedView makes on its flags before it submits, and Client::shutdown(targets).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/async_result.hpp>
#include <mpiply/client.hpp>
#include <mpiply/detail/scheduling.hpp>

#include "client/client_core.hpp"

namespace mpiply {
namespace detail {

void add_result_ids(const AsyncResultBase& r, std::vector<MsgId>& ids, std::uint64_t& run) {
  const ResultStateBase& st = *r.st_;
  std::uint64_t mine = st.core ? st.core->rank0().scheduler.run() : 0;
  if (run != 0 && mine != run)
    throw UsageError(fmt::format(
        "Dependency: '{}' is a result of another client run (mpiply::run call) than the other "
        "results given; a dependency may only name tasks of one run",
        st.fname));
  run = mine;
  for (MsgId i = 0; i < st.ntasks; ++i) ids.push_back(st.first_msg + i);
}

namespace {
// What a team task cannot be, whatever the engines (docs/resources.md, Teams).
void check_team_flags(const ClientCore& core, const TaskFlags& f, const char* function) {
  if (!f.engines || *f.engines == 0)
    throw UsageError(fmt::format("{}: apply_team needs a team size of 1 or more: "
                                 "apply_team(k, f, ...), or the engines flag on the view",
                                 function));
  if (f.retries.value_or(0) > 0)
    throw UsageError(fmt::format("{}: a team task has retries = {}, but a retry would run one "
                                 "member alone; leave retries unset for teams",
                                 function, *f.retries));
  if (f.isolate.value_or(false) || f.time_limit)
    throw UsageError(fmt::format(
        "{}: a team task runs in its engines' own processes (its members talk over MPI, which "
        "an isolated worker process cannot), so isolate and time_limit (which isolates) do not "
        "apply; leave them unset and bound the wait with get(timeout) (docs/resources.md, Teams)",
        function));
  if (core.rank0().engines.client_runs_tasks())
    throw UsageError(fmt::format(
        "{}: team tasks need every engine in the engine communicator, and with client_runs_tasks "
        "rank 0's engine is not; run without client_runs_tasks (MPIPLY_CLIENT_RUNS_TASKS)",
        function));
}
}  // namespace

void check_task_flags(ClientCore& core, const TaskFlags& f, const std::vector<int>& view_targets,
                      const char* function, bool team) {
  if (team) check_team_flags(core, f, function);
  if (f.retries && *f.retries < 0)
    throw UsageError(fmt::format("{}: retries is {}; it must be 0 or more (how many times a task "
                                 "that raised runs again)",
                                 function, *f.retries));
  if (f.timeout && !(f.timeout->count() >= 0))
    throw UsageError(fmt::format("{}: timeout is {} s; it must be 0 or more (the longest a task "
                                 "waits on rank 0 for its dependencies and for an engine), or "
                                 "left unset to wait as long as it takes",
                                 function, f.timeout->count()));
  std::lock_guard lk(core.rank0().mu);
  const Scheduler& sched = core.rank0().scheduler;
  const TaskTable& table = core.rank0().table;
  std::vector<int> engines = view_targets;
  if (f.targets) {
    std::vector<int> t = *f.targets;
    int n = static_cast<int>(core.rank0().engines.num_engines());
    for (int e : t)
      if (e < 0 || e >= n)
        throw UsageError(fmt::format("{}: targets names engine {}, which does not exist (engines "
                                     "0..{}); give engine ids of this job",
                                     function, e, n - 1));
    std::sort(t.begin(), t.end());
    engines.clear();
    std::set_intersection(view_targets.begin(), view_targets.end(), t.begin(), t.end(),
                          std::back_inserter(engines));
    if (engines.empty())
      throw UsageError(fmt::format("{}: targets {} has no engine of this view (engines {}); "
                                   "use engines the view balances over",
                                   function, fmt::join(t, ", "), fmt::join(view_targets, ", ")));
  }
  if (team) {
    const EngineStates& st = sched.placer().engines();
    std::size_t live = static_cast<std::size_t>(std::count_if(
        engines.begin(), engines.end(), [&](int e) { return st.in_service(e); }));
    if (*f.engines > live)
      throw UsageError(fmt::format(
          "{}: apply_team asks for a team of {} engines, but it may run on only {} (engines "
          "{}); ask for at most {}, or start the job with at least {} ranks (rank 0 is the "
          "client, every other rank one engine)",
          function, *f.engines, live, fmt::join(engines, ", "), live, *f.engines + 1));
  }
  if (!sched.placer().engines().any_in_service(engines))
    throw UsageError(fmt::format("{}: every engine it may run on ({}) was shut down "
                                 "(Client::shutdown); nothing can run it",
                                 function, fmt::join(engines, ", ")));
  if (f.cores && *f.cores > 1024)
    throw UsageError(fmt::format("{}: cores is {}; an engine holds at most 1024", function,
                                 *f.cores));
  ResourceRequest req = request_of(f);
  if (std::string why = sched.placer().claims().never_fits(req, engines); !why.empty())
    throw UsageError(fmt::format("{}: {}. Ask for less, or start the job with engines that hold "
                                 "it (docs/resources.md); what each engine holds: "
                                 "Client::engine_resources(id)",
                                 function, why));
  for (const auto* dep : {&f.after, &f.follow}) {
    if (!*dep) continue;
    const char* flag = dep == &f.after ? "after" : "follow";
    if ((*dep)->run != 0 && (*dep)->run != sched.run())
      throw UsageError(fmt::format(
          "{}: its '{}' dependency names results of another client run (an earlier "
          "mpiply::run call); msg ids belong to one run, so depend on tasks of this one",
          function, flag));
    for (MsgId id : (*dep)->msg_ids)
      if (id < table.base_locked() || id >= table.next_msg_locked())
        throw UsageError(fmt::format("{}: its '{}' dependency names msg id {}, which is no task "
                                     "of this run (ids run from {} to {}); depend on msg ids "
                                     "from msg_ids() or on the results themselves",
                                     function, flag, id, table.base_locked(),
                                     table.next_msg_locked()));
  }
}

// At submission, under the same lock as the scheduler's look at the dependencies' records: a
// record that left the hub took its outcome with it, so nothing could tell whether it
// succeeded.
void check_dependencies_in_hub_locked(const TaskTable& table, const TaskFlags& f,
                                      const char* function) {
  for (const auto* dep : {&f.after, &f.follow}) {
    if (!*dep) continue;
    for (MsgId id : (*dep)->msg_ids) {
      if (id < table.base_locked() || id >= table.next_msg_locked()) continue;
      if (!(table.record(id).hub & kRecordPurged)) continue;
      throw UsageError(fmt::format(
          "{}: its '{}' dependency names msg id {}, which was {} the hub, so its outcome is "
          "gone; depend on tasks still in the hub (hold the AsyncResult you depend on: such a "
          "task is never culled)",
          function, dep == &f.after ? "after" : "follow", id,
          table.gone_locked(id) == Gone::culled ? "culled (MPIPLY_HUB_KEEP) from" : "purged from"));
    }
  }
}

}  // namespace detail

namespace {
// Sorted copies of the outcomes, so that each msg id is looked up in O(log n).
struct Outcomes {
  std::vector<MsgId> ok, failed;
  Outcomes(std::vector<MsgId> s, std::vector<MsgId> f) : ok(std::move(s)), failed(std::move(f)) {
    std::sort(ok.begin(), ok.end());
    std::sort(failed.begin(), failed.end());
  }
  bool in(const std::vector<MsgId>& v, MsgId id) const {
    return std::binary_search(v.begin(), v.end(), id);
  }
  // The id ended in a way that counts (met) or in the way that does not (against).
  bool counts(MsgId id, bool success, bool failure) const {
    return (success && in(ok, id)) || (failure && in(failed, id));
  }
};
}  // namespace

// ipyparallel's semantics: met when all (any) of the ids ended in a way that counts;
// unreachable when any (all) of them ended in the way that does not.
bool Dependency::check(const std::vector<MsgId>& succeeded,
                       const std::vector<MsgId>& failed) const {
  if (msg_ids.empty()) return true;
  Outcomes o(succeeded, failed);
  auto met = [&](MsgId id) { return o.counts(id, success, failure); };
  return all ? std::all_of(msg_ids.begin(), msg_ids.end(), met)
             : std::any_of(msg_ids.begin(), msg_ids.end(), met);
}

bool Dependency::unreachable(const std::vector<MsgId>& succeeded,
                             const std::vector<MsgId>& failed) const {
  if (msg_ids.empty()) return false;
  Outcomes o(succeeded, failed);
  auto lost = [&](MsgId id) { return o.counts(id, !success, !failure); };
  return all ? std::any_of(msg_ids.begin(), msg_ids.end(), lost)
             : std::all_of(msg_ids.begin(), msg_ids.end(), lost);
}

void Client::shutdown(const std::vector<int>& targets) const {
  std::vector<int> t;
  for (int id : targets) t.push_back(check_id(id));
  std::lock_guard lk(core_->rank0().mu);
  core_->rank0().aborts.retire_engines_locked(t);
}

}  // namespace mpiply
