// A program that initialises MPI itself with plain MPI_Init (MPI_THREAD_SINGLE on Open MPI),
// then calls mpiply::run: mpiply keeps the level it finds (src/runtime/thread_level.hpp). On Open
// MPI that runs; with MPIPLY_MPI_THREAD_LEVEL naming a level MPI did not grant, every rank
// returns kExitStartupFailed with the message naming both levels and the fix.
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

namespace {
int own_twice(int x) { return 2 * x; }
}  // namespace
MPIPLY_REGISTER(own_twice);

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = mpiply::run(argc, argv, [](mpiply::Client& c) {
    auto got = c.load_balanced_view().map(own_twice, std::vector<int>{1, 2, 3});
    return got == std::vector<int>{2, 4, 6} ? 0 : 1;
  });
  rc = report_exit(rc);
  MPI_Finalize();
  return rc;
}
