// Exit-code program for the graceful drain (docs/drain.md), driven by signal_driver.sh, which
// starts it, waits for "drain-test: task running", then signals mpiexec (or the ranks).
//   drain [--tasks N] [--task-ms M] [--stuck] [--abort-middle] [--grace-option S] [--no-rank-lines]
// A map of N tasks (chunksize 1) that each take M ms; the first prints "drain-test: task
// running". With --abort-middle the task in the middle of the map is aborted while it is still
// queued (Client::abort), before the signal comes, and after the drain client_main waits for
// every task (Client::wait) and says how that went. With --stuck a task that never returns runs first (from a separate apply) and the
// client waits on it. Every rank prints its pid first (for signals sent to the ranks), registers
// a drain action that says it ran, and after run() its `mpiply-exit` line (report_exit.hpp) —
// unless --no-rank-lines: after SIGTERM no rank returns from run (they end through _exit).
// --grace-option S passes RunOptions::drain_grace = S seconds, which wins over MPIPLY_DRAIN_GRACE.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "runtime/drain.hpp"  // mpiply::detail::on_drain, as the task database uses it
#include "report_exit.hpp"

namespace {

void busy_for_ms(int ms) {
  timespec end{};
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_nsec += static_cast<long>(ms % 1000) * 1'000'000;
  end.tv_sec += ms / 1000 + end.tv_nsec / 1'000'000'000;
  end.tv_nsec %= 1'000'000'000;
  // Restarted after a signal's handler: a signal must not cut the task short.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, nullptr) != 0) {
  }
}

}  // namespace

int slow(int i, int ms) {
  if (i == 0) {
    std::printf("drain-test: task running\n");
    std::fflush(stdout);
  }
  busy_for_ms(ms);
  return i;
}
MPIPLY_REGISTER(slow);

int stuck() {
  std::printf("drain-test: task running (stuck)\n");
  std::fflush(stdout);
  for (;;) pause();  // only the end of the job stops it
}
MPIPLY_REGISTER(stuck);

int main(int argc, char** argv) {
  int tasks = 400, task_ms = 50;
  bool stuck_first = false, abort_middle = false, rank_lines = true;
  mpiply::RunOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tasks") == 0 && i + 1 < argc) {
      tasks = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--task-ms") == 0 && i + 1 < argc) {
      task_ms = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--stuck") == 0) {
      stuck_first = true;
    } else if (std::strcmp(argv[i], "--abort-middle") == 0) {
      abort_middle = true;
    } else if (std::strcmp(argv[i], "--grace-option") == 0 && i + 1 < argc) {
      options.drain_grace = mpiply::Seconds(std::atof(argv[++i]));
    } else if (std::strcmp(argv[i], "--no-rank-lines") == 0) {
      rank_lines = false;
    } else {
      std::fprintf(stderr, "drain: unknown argument '%s'\n", argv[i]);
      return 64;
    }
  }
  mpiply::Environment env(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::printf("drain-test: rank %d pid %ld\n", rank, static_cast<long>(getpid()));
  std::fflush(stdout);
  mpiply::detail::on_drain([rank] {
    if (rank == 0) std::fprintf(stderr, "drain-test: drain action ran on rank 0\n");
  });
  int rc = mpiply::run(argc, argv, options, [&](mpiply::Client& c) {
    auto view = c.load_balanced_view();
    std::vector<int> xs(static_cast<std::size_t>(tasks));
    for (int i = 0; i < tasks; ++i) xs[static_cast<std::size_t>(i)] = i;
    std::vector<int> ms(xs.size(), task_ms);
    try {
      if (stuck_first) view.apply_async(stuck).get();
      auto amr = view.map_async(slow, xs, ms, {.chunksize = 1});
      if (abort_middle) {
        std::size_t n = c.abort(std::vector<mpiply::MsgId>{amr.msg_ids()[xs.size() / 2]});
        std::printf("drain-test: aborted %zu queued task\n", n);
      }
      int got = 0;
      for (int y : amr) got += y >= 0;
      std::printf("drain-test: all %d results arrived (no signal came?)\n", got);
    } catch (const mpiply::Interrupted& e) {
      std::printf("drain-test: client_main stopped by mpiply::Interrupted: %s\n", e.what());
      throw;
    } catch (const mpiply::TaskAborted& e) {
      std::printf("drain-test: client_main stopped by mpiply::TaskAborted: %s\n", e.what());
      if (abort_middle) {
        // Every task is accounted for once the running ones end: a wait for all returns.
        try {
          bool all = c.wait(mpiply::Seconds(20));
          std::printf("drain-test: waited for every task after the drain: %s\n",
                      all ? "all done" : "timed out");
        } catch (const std::exception& w) {
          std::printf("drain-test: waited for every task after the drain: %s\n", w.what());
        }
        std::fflush(stdout);
      }
      throw;
    } catch (const mpiply::CompositeError& e) {
      std::printf("drain-test: client_main stopped by mpiply::CompositeError: %s\n", e.what());
      throw;
    }
    std::fflush(stdout);
    return 0;
  });
  if (!rank_lines) return rc;
  return report_exit(rc);
}
