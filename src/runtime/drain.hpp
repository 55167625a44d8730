#pragma once
// Graceful drain on SIGUSR1, SIGTERM and SIGINT (docs/drain.md). The handlers only record the
// signal and wake a watchdog thread through a pipe; the scheduler, the engines and run() poll
// drain_requested() at safe points. The watchdog is the exit path that needs no MPI: if the
// orderly path has not ended the process by the hard deadline, it runs the drain actions, prints
// the summary and _exit(kExitInterrupted). A second signal exits at once; one within 0.5 s of the
// first is taken for the same signal delivered twice (to the rank and through mpirun) and ignored.
#include <cstdint>
#include <functional>
#include <string>

namespace mpiply::detail {

// SIGTERM and SIGINT say the end is near: mpirun SIGKILLs the ranks odls_base_sigkill_timeout
// (1 s by default) after forwarding SIGTERM, so after them running tasks get at most this long,
// and the summary and drain actions come before the kill. SIGUSR1 gets the whole drain grace.
inline constexpr std::int64_t kTermGraceMs = 500;

// The first drain signal caught in this process, or 0. A relaxed load: cheap on hot paths.
int drain_signal() noexcept;
inline bool drain_requested() noexcept { return drain_signal() != 0; }
// steady_ns() by which tasks running at the signal must have finished (the signal's time plus
// the drain grace, or kTermGraceMs after SIGTERM/SIGINT). Only meaningful once drain_requested().
std::int64_t drain_deadline_ns() noexcept;
// "SIGUSR1", "SIGTERM", "SIGINT".
const char* drain_signal_name(int sig) noexcept;

// Registers an action to run once when a drain ends this process (the task database flushes its
// last batch here). Actions run on whichever thread ends the drain, in registration order, at
// most once per process; an action that throws is reported and the next one still runs.
void on_drain(std::function<void()> action);
// Runs the registered actions (once; a second caller waits for the first to finish).
void run_drain_actions() noexcept;

// Rank 0's one-line summary of a drain (done / not run / failed), printed once: by the orderly
// path, or by the watchdog. set_drain_summary installs what computes it; print_drain_summary
// prints it unless it was printed already.
void set_drain_summary(std::function<std::string()> make);
void print_drain_summary() noexcept;

// For the lifetime of one mpiply::run on one rank: installs the handlers and starts the watchdog.
// Without a signal the destructor restores the previous handlers and stops the watchdog; after
// one, both stay for the rest of the process (the process is on its way out with
// kExitInterrupted, and the watchdog guards MPI_Finalize too).
class DrainGuard {
 public:
  DrainGuard(int rank, std::int64_t grace_ms);
  ~DrainGuard();
  DrainGuard(const DrainGuard&) = delete;
  DrainGuard& operator=(const DrainGuard&) = delete;
};

// Ends this process now with kExitInterrupted after the drain actions (used when MPI may no
// longer return: after SIGTERM, or with tasks stuck on engines).
[[noreturn]] void exit_interrupted() noexcept;

}  // namespace mpiply::detail
