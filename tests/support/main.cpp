// The test runner: MPI is set up once for the whole process, so each test case can call
// mpiply::run as often as it likes. Every rank runs the same test cases in the same order; the
// ranks agree on the outcome before the process exits.
#include <mpi.h>

#include <mpiply/environment.hpp>

#include "catch_session.hpp"

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int failed = mpiply_test::run_catch_session(argc, argv);
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any ? 1 : 0;
}
