// The test runner: MPI is set up once for the whole process, so each test case can call
// mpiply::run as often as it likes. Every rank runs the same test cases in the same order; the
// ranks agree on the outcome before the process exits.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/environment.hpp>

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv)) return rc;
  int failed = session.run();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any ? 1 : 0;
}
