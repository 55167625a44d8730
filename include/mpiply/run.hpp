#pragma once
// mpiply::run: the entry point of a program. Every rank calls it; rank 0 runs client_main with a
// Client while the other ranks serve as engines. When client_main returns, the engines are
// stopped and every rank returns the same code: client_main's own value, or one of the codes
// below when mpiply ends the job itself (the README lists them with their causes).
#include <functional>
#include <type_traits>
#include <utility>

#include <mpiply/client.hpp>
#include <mpiply/run_options.hpp>

namespace mpiply {

// mpiply's own exit codes. They sit above sysexits.h (64-78) and below the shell's 126-165
// (128 + signal: 134 abort, 139 segfault, ...), so they do not read as a user's small code
// (1, 2, 3, ...), a BSD-style code, or a signal. client_main's own return value passes through
// unchanged, so a client_main that returns one of these numbers is indistinguishable from it.
//
// client_main threw; the error was printed and the engines were stopped. Every rank returns it.
inline constexpr int kExitClientThrew = 80;
// Start-up failed before client_main ran: a bad MPIPLY_* setting, ranks that disagree on the
// registered functions or their signatures, MPI without thread support. Every rank returns it.
inline constexpr int kExitStartupFailed = 81;
// mpiply's own fatal error (MPI failure, broken protocol); the job ends through MPI_Abort, and
// mpirun exits with this code.
inline constexpr int kExitInternalError = 82;
// Tasks were still running MPIPLY_SHUTDOWN_GRACE seconds after client_main ended; they were
// listed and the job ended through MPI_Abort (a busy engine cannot read a stop message).
inline constexpr int kExitShutdownTimeout = 83;
// Interrupted, resume me: SIGUSR1, SIGTERM or SIGINT arrived (Slurm's --signal, scancel, the
// time limit, Ctrl-C). No new task started, running ones had the drain grace to finish
// (RunOptions::drain_grace, MPIPLY_DRAIN_GRACE), the rest were marked not run, the drain actions
// ran (the task database flushed) and rank 0 printed a summary. Every rank returns it, or ends
// with it through _exit when MPI may no longer answer. Rerun the job to resume. docs/drain.md.
inline constexpr int kExitInterrupted = 84;
// client_main returned 0 and got every result, but the task database (MPIPLY_DB) could not
// record every finished task (disk full, I/O error): rank 0 printed how many are missing, and a
// rerun would run those again. Every rank returns it. docs/database.md.
inline constexpr int kExitNotRecorded = 85;

int run(int argc, char** argv, std::function<int(Client&)> client_main);
// The same with settings fixed in code: run(argc, argv, {.shutdown_grace = Seconds(5)}, main).
int run(int argc, char** argv, const RunOptions& options,
        std::function<int(Client&)> client_main);

template <class F>
  requires std::is_invocable_v<F&, Client&> &&
           std::is_void_v<std::invoke_result_t<F&, Client&>>
int run(int argc, char** argv, const RunOptions& options, F&& client_main) {
  return run(argc, argv, options, std::function<int(Client&)>([&client_main](Client& c) {
               client_main(c);
               return 0;
             }));
}
template <class F>
  requires std::is_invocable_v<F&, Client&> &&
           std::is_void_v<std::invoke_result_t<F&, Client&>>
int run(int argc, char** argv, F&& client_main) {
  return run(argc, argv, RunOptions{}, std::forward<F>(client_main));
}

}  // namespace mpiply
