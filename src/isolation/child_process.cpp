// A forked worker's pid, death and exit status (child_process.hpp). A child's death reaches the
// engine through waitpid and MPI goes on (docs/isolation.md).
#include "isolation/child_process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "isolation/worker_main.hpp"

namespace mpiply::detail {

namespace {

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* text = strsignal(sig);
    std::string s = fmt::format("died of signal {} ({}: {})", sig, signal_name(sig),
                                text ? text : "unknown");
    if (sig == SIGKILL)
      s += " - the out-of-memory killer, send_signal or a kill -9 sends that";
    return s;
  }
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == kWorkerBroken)
      return fmt::format("exited with status {} (it could not go on: see the engine's stderr)",
                         code);
    return fmt::format("exited with status {} (the task called exit)", code);
  }
  return fmt::format("ended with wait status {:#x}", status);
}

}  // namespace

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

ChildProcess::ChildProcess(pid_t pid)
    : pid_(pid), pidfd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}

ChildProcess::~ChildProcess() {
  if (pidfd_ >= 0) close(pidfd_);
}

bool ChildProcess::exited() const {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;  // not ours any more: gone
  return info.si_pid == pid_;
}

void ChildProcess::reap() {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  retired_ = r == pid_ && WIFEXITED(status) && WEXITSTATUS(status) == kWorkerRetired;
  how_ = r == pid_ ? describe_exit(status) : std::string("vanished (it was reaped elsewhere)");
}

void ChildProcess::kill_and_reap() {
  kill(pid_, SIGKILL);
  reap();
}

}  // namespace mpiply::detail
