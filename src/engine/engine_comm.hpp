#pragma once
// The engine communicator's lifetime (include/mpiply/engine_comm.hpp for the user's side): made
// by mpiply::run on every rank after start-up agreed, freed on every rank when run ends.
#include <mpi.h>

namespace mpiply::detail {

class EngineTeam {
 public:
  // Collective over lib_comm (mpiply's duplicate of the world communicator).
  explicit EngineTeam(MPI_Comm lib_comm);
  ~EngineTeam();
  EngineTeam(const EngineTeam&) = delete;
  EngineTeam& operator=(const EngineTeam&) = delete;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace mpiply::detail
