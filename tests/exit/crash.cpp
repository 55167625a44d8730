// Exit-code program: a task kills its engine with a signal (`--signal segv` or `--signal abort`).
// Open MPI ends the job; before that the engine must print one line naming itself, its host, the
// function and the msg id. The exit code is whatever Open MPI makes of the signal.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <mpiply/mpiply.hpp>

int crash_task(int how) {
  if (how == 1) std::raise(SIGSEGV);
  std::abort();
}
MPIPLY_REGISTER(crash_task);

int fine_task(int x) { return x; }
MPIPLY_REGISTER(fine_task);

int main(int argc, char** argv) {
  int how = 1;
  if (argc == 3 && std::strcmp(argv[1], "--signal") == 0 && std::strcmp(argv[2], "abort") == 0)
    how = 2;
  else if (!(argc == 3 && std::strcmp(argv[1], "--signal") == 0 &&
             std::strcmp(argv[2], "segv") == 0)) {
    std::fprintf(stderr, "crash: usage: crash --signal segv|abort\n");
    return 64;
  }
  return mpiply::run(argc, argv, [how](mpiply::Client& c) {
    auto last = c[-1];
    last.apply(fine_task, 1);        // msg id 0
    last.apply(fine_task, 2);        // msg id 1
    return last.apply(crash_task, how);  // msg id 2: the engine dies here
  });
}
