// Exit-code program: client_main throws, so every rank must return kExitClientThrew (1) from
// mpiply::run, the error must be printed ("client_main raised ..."), and nothing may hang.
//   --int      throw an int instead of a std::runtime_error
//   --pending  throw while a slow task is still running on every engine
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

int slow_task(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
MPIPLY_REGISTER(slow_task);

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  bool throw_int = false, pending = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--int") == 0) {
      throw_int = true;
    } else if (std::strcmp(argv[i], "--pending") == 0) {
      pending = true;
    } else {
      std::fprintf(stderr, "throws: unknown argument '%s'; usage: throws [--int] [--pending]\n",
                   argv[i]);
      return 64;
    }
  }
  int rc = mpiply::run(argc, argv, [&](mpiply::Client& c) -> int {
    if (pending) {
      auto ar = c[mpiply::all].apply_async(slow_task, 300);
      (void)ar;
    }
    if (throw_int) throw 42;
    throw std::runtime_error("deliberate failure in client_main");
  });
  return report_exit(rc);
}
