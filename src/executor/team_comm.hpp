#pragma once
// A team task's communicator on its engine (mpiply::task_comm, docs/resources.md "Teams"): made
// with MPI_Comm_create_group over the engine communicator's group, so only the members take
// part, and kept per member set, so a team that runs again on the same engines reuses it.
#include <cstdint>
#include <span>

#include <string>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

// The engine communicator teams are carved from; set by the engine team (engine_comm.cpp) once
// at start-up, before any task, and cleared when it ends (which frees every team communicator).
void set_team_parent(MPI_Comm engine_comm);
void free_team_comms();

// Reads a team member's TeamBlock and engine ids (wire.hpp, kRunTeam) into tb and members;
// returns what is wrong with them, or why this engine cannot run a team task ("" if nothing):
// engine is the reader's own id.
std::string read_team(Reader& r, int engine, TeamBlock& tb, std::vector<int>& members);

// Makes task_comm() the communicator of these members (engine ids, ascending) on this thread
// while it lives. Collective over the members the first time a set is seen on this engine: every
// member constructs it before its call runs, on the engine's MPI thread.
class TeamScope {
 public:
  explicit TeamScope(std::span<const int> members);
  ~TeamScope();
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;

 private:
  MPI_Comm prev_;
};

}  // namespace mpiply::detail
