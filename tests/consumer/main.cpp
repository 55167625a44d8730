// engine_comm.hpp needs <mpi.h>: it comes through mpiply::mpiply alone (MPI is public).
#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>
#include <fmt/core.h>
static_assert(MPIPLY_VERSION >= 100, "mpiply/version.hpp is installed with the headers");
int twice(int x) { return 2 * x; }
MPIPLY_REGISTER(twice);
int team_size() {
  int n = 0;
  MPI_Comm_size(mpiply::engine_comm(), &n);
  return n;
}
MPIPLY_REGISTER_COLLECTIVE(team_size);
int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    int y = rc.load_balanced_view().apply_sync(twice, 21);
    int team = rc[mpiply::all].apply(team_size).at(0);
    fmt::print("consumer: mpiply {}, twice(21) = {}, team of {}\n", mpiply::version_string, y,
               team);
    return y == 42 && team == int(rc.size()) ? 0 : 1;
  });
}
