#pragma once
// Settings a program fixes in code, passed to mpiply::run. Each one given here wins over its
// MPIPLY_* environment variable; one left empty falls back to the variable, then the default.
// Every rank runs the same code, so every rank sees the same options.
#include <cstdint>
#include <optional>
#include <string>

#include <mpiply/time.hpp>

namespace mpiply {

// How a LoadBalancedView picks the engine for a task, as ipyparallel's schemes. Each one only
// picks among engines holding fewer tasks than their window (hwm; see RunOptions::hwm).
enum class Scheme : std::uint8_t {
  leastload,    // fewest outstanding tasks; ties go to the least recently used (the default)
  lru,          // least recently used engine, whatever its load
  twobin,       // two engines drawn at random, the least recently used of the two
  weighted,     // two engines drawn at random weighted by 1/load, the less loaded of the two
  plainrandom,  // any engine with room, at random
};

// "leastload", ... as MPIPLY_SCHEME spells them.
const char* to_string(Scheme s) noexcept;

// Which stored results the task database may reuse (MPIPLY_DB_REUSE; docs/database.md).
enum class DbReuse : std::uint8_t {
  same_build,  // only those made by this build of their function (or its registered version)
  any_build,   // also those of other builds of the program: on purpose, after a rebuild known
               // not to change any function's results
};

struct RunOptions {
  // Tasks one engine may hold (MPIPLY_HWM): 1 to 1024. Unset (here and in the environment), it
  // is 4, and an engine whose recent tasks ran under 50 us may hold more, up to 32; set, it is
  // fixed.
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
  // Every task runs in a worker process its engine forks once and reuses, so a task that
  // crashes fails with TaskCrashed and the job goes on (MPIPLY_ISOLATE=1; docs/isolation.md).
  // TaskFlags::isolate overrides it per view or call.
  std::optional<bool> isolate;
  // The run-time limit of every task, 0 for none (MPIPLY_TASK_TIMEOUT, seconds): past it the
  // task's worker process is killed and the task fails with TaskTimeout. A limit implies
  // isolation. TaskFlags::time_limit overrides it per view or call.
  std::optional<Seconds> time_limit;
  // How load-balanced tasks are placed (MPIPLY_SCHEME=leastload|lru|twobin|weighted|plainrandom).
  std::optional<Scheme> scheme;
  // Each task's stdout and stderr (whatever wrote them: std::cout, printf, write(1, ...), child
  // processes) are captured on its engine and sent to rank 0 with its result: ar.stdout(),
  // ar.stderr(), ar.display_outputs(), TaskMetadata::stdout (MPIPLY_CAPTURE=1; off by
  // default). Also records each task's CPU time and peak memory. See docs/output.md.
  std::optional<bool> capture_output;
  // Bytes of stdout, and as many of stderr, one task keeps when captured (MPIPLY_OUTPUT_CAP,
  // default 1 MiB, at most 1 GiB); past it the text is cut with a marker saying how much was
  // dropped.
  std::optional<std::uint64_t> output_cap;
  // Live output (MPIPLY_STREAM=1; implies capture_output): what a running task writes reaches
  // rank 0 every stream_interval (MPIPLY_STREAM_INTERVAL, seconds, default 0.1, 0.001 to 60),
  // where ar.stdout() / ar.stderr() grow while it runs and, with stream_print (default true),
  // rank 0 prints it as "[stdout:N] text" as it arrives. Published data (publish_data) travels
  // the same way. See docs/output.md.
  std::optional<bool> stream_output;
  std::optional<Seconds> stream_interval;
  std::optional<bool> stream_print;
  // The durable task database (MPIPLY_DB=path; docs/database.md): rank 0 records every finished
  // task there, and a later run of the same program reuses the results of tasks that succeeded
  // (same function, same argument bytes) instead of sending them. Empty: off.
  std::optional<std::string> db;
  // With false the database records but never reuses (MPIPLY_DB_RESUME=0|1, default 1).
  std::optional<bool> db_resume;
  // Whether results made by another build of the program are reused
  // (MPIPLY_DB_REUSE=same-build|any-build, default same-build). A function registered with
  // MPIPLY_REGISTER_VERSIONED is matched by its version instead of the build.
  std::optional<DbReuse> db_reuse;
  // The ranks run different binaries on purpose (MPMD: mpirun -n 1 a : -n 3 b; MPIPLY_MPMD=0|1,
  // default 0). Without it start-up refuses ranks whose executables' build ids differ
  // (kExitStartupFailed); with it only the registered names and signatures are compared, and a
  // function whose body differs between binaries goes unnoticed (docs/database.md).
  std::optional<bool> mpmd;
  // The hub's cap, in records (MPIPLY_HUB_KEEP=N, 0 to 10^12; unset: keep every record): while
  // more than N finished tasks are kept, rank 0 culls the oldest finished tasks whose
  // AsyncResult is no longer held, so its memory stays bounded in a stream of tasks. A task
  // still running or still held by an AsyncResult is never culled. With the task database on,
  // culled tasks stay readable from it. See docs/hub.md, "Memory".
  std::optional<std::uint64_t> hub_keep;
};

}  // namespace mpiply
