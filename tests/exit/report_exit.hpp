#pragma once
// For the exit-code programs: prints this rank's `mpiply-exit` line, then waits for every rank to
// have printed before any process exits. Open MPI's mpiexec kills the remaining ranks as soon as
// one exits non-zero, so without the barrier a slower rank's line would be lost. MPI must be set
// up by main's mpiply::Environment (not by run), so it is still usable here.
#include <cstdio>
#include <cstdlib>

#include <mpi.h>

inline int report_exit(int rc) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  std::printf("mpiply-exit rank=%s code=%d\n", rank ? rank : "0", rc);
  std::fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  return rc;
}
