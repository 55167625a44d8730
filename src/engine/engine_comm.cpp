// The engine communicator: ranks 1..N-1 split off mpiply's own communicator, so engine id =
// rank in it. Rank 0 gets a team of its own: with one rank that is the inline engine 0's team of
// one, and with more no task ever runs on rank 0 to use it.
#include "engine/engine_comm.hpp"

#include <mpiply/engine.hpp>
#include <mpiply/engine_comm.hpp>
#include <mpiply/errors.hpp>

#include "executor/team_comm.hpp"
#include "support/mpi_check.hpp"

namespace mpiply {

namespace {
// Written by run() on its own thread before the progress thread or the engine loop starts and
// after they stop, so tasks read it without a lock.
MPI_Comm team = MPI_COMM_NULL;
}  // namespace

MPI_Comm engine_comm() {
  if (!detail::in_task() || team == MPI_COMM_NULL)
    throw UsageError(
        "mpiply::engine_comm() called outside a task: the engine communicator belongs to tasks "
        "running on the engines. Call it inside a function registered with "
        "MPIPLY_REGISTER_COLLECTIVE and run it with rc[mpiply::all].apply(f, ...); rank 0's "
        "client thread has no engine communicator");
  return team;
}

namespace detail {

EngineTeam::EngineTeam(MPI_Comm lib_comm) {
  int rank = 0, size = 0;
  mpi_check(MPI_Comm_rank(lib_comm, &rank), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(lib_comm, &size), "MPI_Comm_size");
  int color = (rank == 0 && size > 1) ? 1 : 0;
  mpi_check(MPI_Comm_split(lib_comm, color, rank, &comm_), "MPI_Comm_split");
  // The split inherits mpiply's MPI_ERRORS_RETURN; user code in tasks rarely checks return codes,
  // so a failed collective should stop the job as it would in a plain MPI program.
  mpi_check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_ARE_FATAL), "MPI_Comm_set_errhandler");
  team = comm_;
  // Rank 0 is outside the engines' team when there are engines: no team task runs there.
  if (color == 0) set_team_parent(comm_);
}

EngineTeam::~EngineTeam() {
  team = MPI_COMM_NULL;
  free_team_comms();  // before their parent
  // Every rank reaches this when run ends normally; a failure here changes nothing for the user.
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

}  // namespace detail
}  // namespace mpiply
