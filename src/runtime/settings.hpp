#pragma once
// The MPIPLY_* environment variables, read in one place. At the start of mpiply::run every rank
// parses its own environment and the ranks agree: a bad value on any rank stops every rank with
// kExitStartupFailed and one message from rank 0; otherwise rank 0's values hold everywhere.
#include <cstdint>
#include <string>
#include <vector>

#include <mpi.h>

#include <mpiply/run_options.hpp>

namespace mpiply::detail {

// The longest run-time limit a task message can carry (u32 milliseconds): about 46 days.
inline constexpr std::uint64_t kMaxTimeLimitMs = 4'000'000'000;

// The largest per-task output cap (MPIPLY_OUTPUT_CAP): 1 GiB each for stdout and stderr.
inline constexpr std::uint64_t kMaxOutputCap = std::uint64_t(1) << 30;

// MPIPLY_HUB_KEEP unset: the hub keeps every finished task's record (ipyparallel's behaviour).
inline constexpr std::uint64_t kHubKeepAll = UINT64_MAX;
// The largest cap one can set: more records than any rank 0 could hold (48 B each).
inline constexpr std::uint64_t kMaxHubKeep = 1'000'000'000'000;

struct Settings {
  int hwm = 4;                                      // MPIPLY_HWM: tasks one engine may hold
  bool hwm_set = false;  // hwm given (MPIPLY_HWM, RunOptions::hwm): no deeper window
  std::uint64_t max_message_bytes = 2147483647;     // MPIPLY_MAX_MESSAGE_BYTES (MPI counts are int)
  std::int64_t shutdown_grace_ms = 30'000;          // MPIPLY_SHUTDOWN_GRACE, in seconds
  std::int64_t drain_grace_ms = 30'000;  // MPIPLY_DRAIN_GRACE, in seconds: see docs/drain.md
  bool client_runs_tasks = false;  // MPIPLY_CLIENT_RUNS_TASKS: rank 0 is also the last engine
  int engine_threads = 1;  // MPIPLY_ENGINE_THREADS, else SLURM_CPUS_PER_TASK: tasks an engine runs at once
  // engine_threads came from a variable or RunOptions: it is then also the engine's cores;
  // otherwise the engine's CPU binding counts them (inventory.hpp).
  bool engine_threads_named = false;
  bool isolate = false;    // MPIPLY_ISOLATE: calls run in each engine's worker process
  std::int64_t time_limit_ms = 0;  // MPIPLY_TASK_TIMEOUT, in seconds: a call's run-time limit; 0 none
  Scheme scheme = Scheme::leastload;  // MPIPLY_SCHEME: how load-balanced tasks are placed
  bool capture_output = false;  // MPIPLY_CAPTURE: tasks' stdout/stderr go to rank 0 (docs/output.md)
  std::uint64_t output_cap = std::uint64_t(1) << 20;  // MPIPLY_OUTPUT_CAP: bytes kept per stream
  bool db_resume = true;
  // MPIPLY_STREAM: output and published data of running tasks reach rank 0 every
  // stream_interval_ms (MPIPLY_STREAM_INTERVAL, seconds); implies capture_output.
  bool stream_output = false;
  bool stream_print = true;  // RunOptions::stream_print: rank 0 prints streamed output
  std::int64_t stream_interval_ms = 100;  // MPIPLY_DB_RESUME: the task database reuses earlier runs' results
  bool db_any_build = false;  // MPIPLY_DB_REUSE=any-build: reuse results of other builds too
  bool mpmd = false;          // MPIPLY_MPMD: ranks may run binaries with different build ids
  // MPIPLY_HUB_KEEP: finished tasks' records the hub keeps before it culls the oldest ones no
  // AsyncResult holds (docs/hub.md, "Memory").
  std::uint64_t hub_keep = kHubKeepAll;
};

// Reads every MPIPLY_* variable; each bad one adds a line to problems (what, why, the fix) and
// leaves its default in place. An empty value counts as unset.
Settings read_settings(std::vector<std::string>& problems);

// Collective on comm. Returns "" once every rank's settings parsed, with rank 0's values in
// effect (settings() returns them); otherwise the message, the same on every rank.
std::string agree_on_settings(MPI_Comm comm);

// Puts the options given to run() over the agreed settings. Returns "" or what is wrong with
// them; the same on every rank, since every rank passes the same options.
std::string apply_run_options(const RunOptions& options);

// The fields of `options` that are set, checked and written over `s`; "" when all are in range,
// else one line per problem (`s` is then partly written and must not be used).
std::string overlay_run_options(const RunOptions& options, Settings& s);

// The settings in effect: those of the current (or last) mpiply::run, defaults before any.
const Settings& settings() noexcept;

// The task database's path (RunOptions::db, else rank 0's MPIPLY_DB), empty when off. Kept out of
// Settings, which is broadcast as bytes; only rank 0 opens the file, so only rank 0 holds it.
const std::string& db_path() noexcept;

}  // namespace mpiply::detail
