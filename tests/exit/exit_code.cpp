// Exit-code program: client_main returns the code given by `--code N`, and every rank must get
// that code back from mpiply::run (and exit with it). Each rank prints
// `mpiply-exit rank=<r> code=<c>` so expect_exit.cmake can check all of them, not just the one
// mpiexec reports.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

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
