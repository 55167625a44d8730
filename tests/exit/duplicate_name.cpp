// Exit-code program: two different functions registered under one name. Registration cannot
// throw (static initialisation), so mpiply::run must report it on start-up and every rank must
// return kExitStartupFailed without running client_main.
#include <cstdio>
#include <cstdlib>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

int twin_a(int x) { return x; }
int twin_b(int x) { return -x; }
MPIPLY_REGISTER_AS("twin", &twin_a);
MPIPLY_REGISTER_AS("twin", &twin_b);

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int rc = mpiply::run(argc, argv, [](mpiply::Client&) {
    std::printf("client_main ran although the registry is broken\n");
    return 0;
  });
  return report_exit(rc);
}
