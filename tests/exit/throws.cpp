// Exit-code program: client_main throws, so every rank must return kExitClientThrew from
// mpiply::run, the error must be printed ("client_main raised ..."), and nothing may hang.
//   --int      throw an int instead of a std::runtime_error
//   --pending  throw while slow tasks run on every engine and more wait on rank 0; after run
//              returns, rank 0 checks that each task still queued at the throw was abandoned
//              (its result fails with mpiply::TaskAborted, its status is aborted) and each task
//              already sent finished, and prints "abandonment ok: ..." or what went wrong.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "report_exit.hpp"

int slow_task(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
MPIPLY_REGISTER(slow_task);

namespace {

struct Pending {
  mpiply::AsyncResult<int> ar;
  bool queued_at_throw;
};

// What became of the tasks left behind; true if every one ended as it should.
bool check_abandoned(const std::vector<Pending>& pending) {
  int aborted = 0, finished = 0, wrong = 0;
  for (const auto& p : pending) {
    mpiply::TaskStatus st = p.ar.metadata().at(0).status;
    bool threw_aborted = false;
    try {
      (void)p.ar.get();
    } catch (const mpiply::TaskAborted&) {
      threw_aborted = true;
    } catch (const mpiply::RemoteError&) {
    }
    if (p.queued_at_throw && st == mpiply::TaskStatus::aborted && threw_aborted) {
      ++aborted;
    } else if (!p.queued_at_throw && st == mpiply::TaskStatus::ok && !threw_aborted) {
      ++finished;
    } else {
      ++wrong;
      std::printf("abandonment wrong: msg %llu was %s at the throw, is %s now%s\n",
                  static_cast<unsigned long long>(p.ar.msg_ids().at(0)),
                  p.queued_at_throw ? "queued" : "sent", mpiply::to_string(st),
                  threw_aborted ? " and fails as aborted" : "");
    }
  }
  if (wrong == 0)
    std::printf("abandonment ok: %d queued task(s) aborted, %d sent task(s) finished\n", aborted,
                finished);
  std::fflush(stdout);
  return wrong == 0;
}

}  // namespace

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
  std::vector<Pending> left;
  int rc = mpiply::run(argc, argv, [&](mpiply::Client& c) -> int {
    if (pending) {
      // More than the engines may hold, so some stay queued on rank 0 (none when inline: there
      // tasks run at submission).
      auto lbv = c.load_balanced_view();
      std::size_t n = c.ids().size() * static_cast<std::size_t>(c.hwm()) + 4;
      for (std::size_t i = 0; i < n; ++i) left.push_back({lbv.apply_async(slow_task, 300), false});
      for (auto& p : left)
        p.queued_at_throw = p.ar.metadata().at(0).status == mpiply::TaskStatus::queued;
    }
    if (throw_int) throw 42;
    throw std::runtime_error("deliberate failure in client_main");
  });
  if (pending && !left.empty() && !check_abandoned(left)) rc = 99;
  return report_exit(rc);
}
