#pragma once
// Settings a program fixes in code, passed to mpiply::run. Each one given here wins over its
// MPIPLY_* environment variable; one left empty falls back to the variable, then the default.
// Every rank runs the same code, so every rank sees the same options.
#include <optional>

#include <mpiply/time.hpp>

namespace mpiply {

struct RunOptions {
  // Tasks one engine may hold (MPIPLY_HWM): 1 to 1024.
  std::optional<int> hwm;
  // How long shutdown waits for tasks still running after client_main ends before it names
  // them and ends the job with kExitShutdownTimeout (MPIPLY_SHUTDOWN_GRACE): 0 to 7 days.
  std::optional<Seconds> shutdown_grace;
  // How long tasks already running when SIGUSR1 arrives may take to finish before the job ends
  // with kExitInterrupted (MPIPLY_DRAIN_GRACE): 0 to 7 days, default 30 s. After SIGTERM or
  // SIGINT they get at most 0.5 s, since mpirun kills the job 1 s after forwarding those.
  // docs/drain.md says what happens on each signal.
  std::optional<Seconds> drain_grace;
  // Tasks one engine runs at once, each in its own worker thread (MPIPLY_ENGINE_THREADS, else
  // SLURM_CPUS_PER_TASK, else 1): 1 to 1024. Each engine then holds at least this many tasks,
  // whatever hwm says, so no thread waits for work. See Engine in engine.hpp for what tasks
  // sharing an engine may do at once.
  std::optional<int> engine_threads;
  // Rank 0 also runs tasks, as the last engine (id N-1 with N ranks; ranks 1..N-1 keep ids
  // 0..N-2), on a thread of its own that never calls MPI (MPIPLY_CLIENT_RUNS_TASKS=1). It runs
  // one task at a time. With one rank, tasks run on rank 0 anyway.
  std::optional<bool> client_runs_tasks;
};

}  // namespace mpiply
