// Exit-code program: client_main returns the code given by `--code N`, and every rank must get
// that code back from mpiply::run (and exit with it). Each rank prints
// `mpiply-exit rank=<r> code=<c>` so expect_exit.cmake can check all of them, not just the one
// mpiexec reports.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

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
  int code = 0;
  bool run_owns_mpi = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--code") == 0 && i + 1 < argc) {
      code = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--run-owns-mpi") == 0) {
      // run initialises and finalises MPI itself (the usual program). No rank lines then: only
      // the code mpiexec reports is checked.
      run_owns_mpi = true;
    } else {
      std::fprintf(stderr,
                   "exit_code: unknown argument '%s'; usage: exit_code --code N [--run-owns-mpi]\n",
                   argv[i]);
      return 64;
    }
  }
  if (run_owns_mpi) return mpiply::run(argc, argv, [code](mpiply::Client&) { return code; });
  mpiply::Environment env(argc, argv);
  int rc = mpiply::run(argc, argv, [code](mpiply::Client&) { return code; });
  return report_exit(rc);
}
