// Exit-code program: two different functions registered under one name. Registration cannot
// throw (static initialisation), so mpiply::run must report it on start-up and every rank must
// return kExitStartupFailed (2) without running client_main.
#include <cstdio>
#include <cstdlib>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

int twin_a(int x) { return x; }
int twin_b(int x) { return -x; }
MPIPLY_REGISTER_AS("twin", &twin_a);
MPIPLY_REGISTER_AS("twin", &twin_b);

// Prints this rank's `mpiply-exit` line, then waits for every rank to have printed before any
// process exits: Open MPI's mpiexec kills the remaining ranks as soon as one exits non-zero, so
// without the barrier a slower rank's line would be lost. MPI is set up by main's Environment
// (not by run), so it is still usable here.
int report_exit(int rc) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  std::printf("mpiply-exit rank=%s code=%d\n", rank ? rank : "0", rc);
  std::fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  return rc;
}

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int rc = mpiply::run(argc, argv, [](mpiply::Client&) {
    std::printf("client_main ran although the registry is broken\n");
    return 0;
  });
  return report_exit(rc);
}
