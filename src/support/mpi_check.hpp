#pragma once
// Every MPI call is checked; a failure raises MpiError naming the routine and MPI's own message.
#include <mpi.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

inline void mpi_check(int rc, const char* routine) {
  if (rc != MPI_SUCCESS) throw MpiError(routine, rc);
}

}  // namespace mpiply::detail
