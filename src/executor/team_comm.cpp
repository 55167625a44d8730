// Team communicators (team_comm.hpp). Only the engine's MPI thread runs team tasks
// (engine_workers.cpp keeps them off worker threads, like collective calls), and inline it is
// the client thread under the client lock, so the cache needs no lock of its own; the count is
// atomic so that any thread may read it.
#include "executor/team_comm.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/engine.hpp>
#include <mpiply/engine_comm.hpp>
#include <mpiply/errors.hpp>

#include "support/mpi_check.hpp"

namespace mpiply {

namespace {
MPI_Comm g_team_parent = MPI_COMM_NULL;
// Member set -> communicator. Every member keeps the same sets, and frees them in the same
// (sorted) order at the end.
std::map<std::vector<int>, MPI_Comm>& cache() {
  static std::map<std::vector<int>, MPI_Comm> c;
  return c;
}
std::atomic<std::uint64_t> g_team_comms{0};
thread_local MPI_Comm t_team_comm = MPI_COMM_NULL;
// MPI_Comm_create_group's tag: the engine communicator's point-to-point tags belong to the
// user's collective functions, so this one is far from small numbers.
constexpr int kTeamCreateTag = 0x6d70;
}  // namespace

MPI_Comm task_comm() {
  if (!detail::in_task() || t_team_comm == MPI_COMM_NULL)
    throw UsageError(
        "mpiply::task_comm() called outside a team task: only a task submitted with "
        "LoadBalancedView::apply_team(k, f, ...) (or the engines flag) has a team communicator. "
        "Inside a collective function over every engine, use mpiply::engine_comm()");
  return t_team_comm;
}

std::uint64_t task_comms_created() noexcept { return g_team_comms.load(std::memory_order_relaxed); }

namespace detail {

std::string read_team(Reader& r, int engine, TeamBlock& tb, std::vector<int>& members) {
  try {
    tb = r.pod<TeamBlock>();
    if (tb.size == 0 || tb.rank >= tb.size || tb.size > r.remaining() / 4)
      return fmt::format("team of {} with rank {}", tb.size, tb.rank);
    for (std::uint32_t i = 0; i < tb.size; ++i) members.push_back(r.pod<std::int32_t>());
  } catch (const ValueDecodeError& e) {
    return e.what();
  }
  if (!std::is_sorted(members.begin(), members.end()) || members[tb.rank] != engine)
    return fmt::format("team member {} of engines {} is not engine {}", tb.rank,
                       fmt::join(members, ","), engine);
  // TeamScope needs the engine communicator: refused here, it fails the task instead of
  // throwing out of the executor on the engine's thread.
  if (g_team_parent == MPI_COMM_NULL)
    return fmt::format("engine {} is outside the engine communicator and cannot run a team task "
                       "(rank 0's engine under client_runs_tasks cannot call MPI)",
                       engine);
  return {};
}

void set_team_parent(MPI_Comm engine_comm) { g_team_parent = engine_comm; }

void free_team_comms() {
  for (auto& [members, comm] : cache())
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  cache().clear();
  g_team_parent = MPI_COMM_NULL;
}

TeamScope::TeamScope(std::span<const int> members) : prev_(t_team_comm) {
  if (g_team_parent == MPI_COMM_NULL)
    throw UsageError("mpiply: a team task reached an engine outside the engine communicator "
                     "(rank 0's engine under client_runs_tasks cannot call MPI)");
  std::vector<int> key(members.begin(), members.end());
  auto it = cache().find(key);
  if (it == cache().end()) {
    MPI_Group all = MPI_GROUP_NULL, part = MPI_GROUP_NULL;
    detail::mpi_check(MPI_Comm_group(g_team_parent, &all), "MPI_Comm_group");
    detail::mpi_check(MPI_Group_incl(all, static_cast<int>(key.size()), key.data(), &part),
                      "MPI_Group_incl");
    MPI_Comm comm = MPI_COMM_NULL;
    int rc = MPI_Comm_create_group(g_team_parent, part, kTeamCreateTag, &comm);
    MPI_Group_free(&part);
    MPI_Group_free(&all);
    detail::mpi_check(rc, "MPI_Comm_create_group");
    // As the engine communicator: a failed collective in user code stops the job.
    detail::mpi_check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL),
                      "MPI_Comm_set_errhandler");
    it = cache().emplace(std::move(key), comm).first;
    g_team_comms.fetch_add(1, std::memory_order_relaxed);
  }
  t_team_comm = it->second;
}

TeamScope::~TeamScope() { t_team_comm = prev_; }

}  // namespace detail
}  // namespace mpiply
