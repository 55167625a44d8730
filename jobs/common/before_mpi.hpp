#pragma once
// Flag errors found before MPI is up, when every rank parses the command line on its own.
#include <cstdio>
#include <cstdlib>

#include <mpi.h>

namespace jobs {

// Is this the first rank (or a process not started by an MPI launcher)? Only it prints.
inline bool first_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* s = std::getenv(v)) return std::atoi(s) == 0;
  return true;
}

// Ends every rank with `code` once the first rank has written its message. Returning at once
// is not enough: mpirun kills the whole job as soon as one rank exits non-zero, so a quick
// rank could kill the first one before its message is out. A barrier orders them.
inline int exit_all_ranks(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Init(nullptr, nullptr);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}

}  // namespace jobs
