#pragma once
// The engines as an MPI team, and a team task's own communicator (task_comm). Inside a task,
// engine_comm() is a communicator of every engine, with rank = engine id, apart from mpiply's own traffic and from MPI_COMM_WORLD, so a function
// registered with MPIPLY_REGISTER_COLLECTIVE and run by rc[mpiply::all].apply(f, ...) can call
// MPI_Allreduce or swap halos with its neighbours. With one rank the inline engine 0 has a team
// of one, so the same code runs without mpirun.
//
// Not part of mpiply.hpp: this is the one public header that includes <mpi.h>, and a program
// that uses it calls MPI itself; the rest of mpiply's API stays free of MPI's names and macros.
#include <cstdint>

#include <mpi.h>

namespace mpiply {

// The engine communicator of the task running on this thread. Throws UsageError outside a task
// (e.g. on rank 0's client thread). Collectives on it belong only in collective functions, since
// every engine must make the same calls in the same order.
MPI_Comm engine_comm();

// The communicator of the team task running on this thread (LoadBalancedView::apply_team, or a
// view with the engines flag; docs/resources.md "Teams"): exactly the k engines running it,
// team rank 0..k-1 in ascending engine id. Made the first time these engines form a team and
// kept for the rest of the run, so a repeated team costs no new communicator. Throws
// UsageError outside a team task. Every member must make the same collective calls on it.
MPI_Comm task_comm();

// How many team communicators this process has made so far (a repeated team makes none).
std::uint64_t task_comms_created() noexcept;

}  // namespace mpiply
