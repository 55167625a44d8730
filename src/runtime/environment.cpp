// MPI set-up with a checked thread level; finalised only by the Environment that initialised it.
#include <mpiply/environment.hpp>

#include <mpi.h>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

#include "runtime/inventory.hpp"

namespace mpiply {

namespace {
const char* level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    default: return "MPI_THREAD_MULTIPLE";
  }
}
}  // namespace

Environment::Environment(int& argc, char**& argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    detail::note_bound_cores();  // before MPI starts threads that may read the environment
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      throw StartupError("mpiply: MPI_Init_thread failed");
    owns_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    std::string msg = fmt::format(
        "mpiply: MPI provides {} but mpiply needs MPI_THREAD_SERIALIZED (rank 0 runs a progress "
        "thread); {}",
        level_name(provided),
        owns_ ? "use an MPI library built with thread support"
              : "initialise MPI with MPI_Init_thread(..., MPI_THREAD_SERIALIZED, ...)");
    if (owns_) MPI_Finalize();
    owns_ = false;
    throw StartupError(msg);
  }
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized) MPI_Finalize();
}

}  // namespace mpiply
