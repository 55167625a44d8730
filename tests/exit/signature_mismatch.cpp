// Exit-code program: every rank registers a function as "compute", but the engines' takes and
// returns long while rank 0's takes and returns double. The names agree, so only a start-up check
// of signatures catches it; without one the engines decode 2.5 as a long and the job "succeeds"
// with a wrong number. Every rank must return kExitStartupFailed, with a message naming the
// function and both signatures, and client_main must never run.
#include <cstdio>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

double compute_double(double x) { return x * 2; }
long compute_long(long x) { return x * 2; }

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  // As a program built from diverging sources would: same name, other types.
  if (rank == 0)
    mpiply::register_function("compute", compute_double);
  else
    mpiply::register_function("compute", compute_long);
  int rc = mpiply::run(argc, argv, [](mpiply::Client& c) {
    double y = c[0].apply(compute_double, 2.5);
    std::printf("client_main ran although the signatures differ: compute(2.5) = %g\n", y);
    return 0;
  });
  return report_exit(rc);
}
