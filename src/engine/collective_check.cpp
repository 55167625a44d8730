// Refusing collective functions (MPIPLY_REGISTER_COLLECTIVE) anywhere but an apply on every
// engine; the message names the function, what was wrong and the call that works.
#include <mpiply/detail/collective.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <mpiply/detail/core.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

bool targets_every_engine(const ClientCore& core, const std::vector<int>& targets) {
  // Every engine exactly once: a duplicated target would run the collective twice on one engine
  // (the second call waiting for partners that already left).
  std::vector<int> sorted = targets;
  std::sort(sorted.begin(), sorted.end());
  return sorted == core_ids(core);
}

void throw_collective_misuse(const ClientCore& core, const FunctionEntry& e, CollectiveUse use,
                             const std::vector<int>& targets) {
  std::size_t n = core_ids(core).size();
  if (core_client_runs_tasks(core))
    throw UsageError(fmt::format(
        "mpiply: '{0}' is registered as collective (MPIPLY_REGISTER_COLLECTIVE), but this job "
        "runs tasks on rank 0 too (client_runs_tasks): rank 0's engine {1} is not in "
        "mpiply::engine_comm() and may not call MPI while the client runs, so a collective "
        "cannot include it. Nothing was sent. Turn client_runs_tasks off "
        "(MPIPLY_CLIENT_RUNS_TASKS=0) for jobs with collective functions",
        e.name, n - 1));
  std::string what;
  switch (use) {
    case CollectiveUse::direct_apply:
      what = fmt::format("it was applied to engines [{}] and the job has {} (ids 0 to {}), each "
                         "of which must run it once",
                         fmt::join(targets, ", "), n, n - 1);
      break;
    case CollectiveUse::engine_apply:
      what = fmt::format("it was applied to engine {} alone (client[{}]) and the job has {} "
                         "engines",
                         targets.empty() ? -1 : targets[0], targets.empty() ? -1 : targets[0], n);
      break;
    case CollectiveUse::load_balanced_apply:
      what = "it was applied through a LoadBalancedView, which runs it on one engine";
      break;
    case CollectiveUse::map:
      what = "it was passed to map, which gives each engine its own number of chunks";
      break;
  }
  throw UsageError(fmt::format(
      "mpiply: '{0}' is registered as collective (MPIPLY_REGISTER_COLLECTIVE): it calls MPI "
      "collectives on mpiply::engine_comm(), so every engine must run it at the same time, but "
      "{1}; otherwise some engines would wait in the collective for partners that never come. "
      "Nothing was sent. Run it on every engine with rc[mpiply::all].apply({0}, ...)",
      e.name, what));
}

}  // namespace mpiply::detail
