#pragma once
// farm: running one shell command on an engine. The command runs as `/bin/sh -c CMD` in its own
// process group, its stdout and stderr go to two memory files (never a pipe: a pipe would block
// the command at 64 KiB while we wait for it), and a timeout kills the whole group. So does
// SIGUSR2 to the engine process running it when asked (--halt now: rank 0 signals the isolated
// workers that run the commands).
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

#include <boost/serialization/string.hpp>

#include "../common/program_name.hpp"

namespace farm {

// What one run of a command gave; travels back to rank 0 as the task's value.
struct Outcome {
  int exitval = 0;         // exit status; 0 when a signal ended the command, -1 when we killed it
                           // (timeout, --halt now), as GNU parallel
  int signal = 0;          // the signal that ended it; when we killed it, the last one we sent
  bool timed_out = false;
  bool halted = false;     // killed by --halt now
  double runtime = 0;      // seconds from fork to reaping the shell
  std::string out, err;    // everything the command wrote to stdout and stderr

  bool ok() const { return exitval == 0 && signal == 0; }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & exitval & signal & timed_out & halted & runtime & out & err;
  }
};

namespace detail {

// Set by SIGUSR2 when run_shell was asked to stop on it.
inline volatile std::sig_atomic_t stop_requested = 0;
inline void on_stop_signal(int) { stop_requested = 1; }

[[noreturn]] inline void fail(const char* what) {
  throw std::runtime_error(jobs::tool_name() + ": " + what + ": " + std::strerror(errno));
}

// Closes on scope exit; the fds are CLOEXEC, so the command only sees what we dup2 for it.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

inline std::string read_all(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("fstat of captured output");
  std::string s(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < s.size()) {
    ssize_t n = ::pread(fd, s.data() + got, s.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  s.resize(got);
  return s;
}

// In the forked child: only async-signal-safe calls until exec, and never MPI.
[[noreturn]] inline void exec_shell(const char* cmd, int in, int out, int err, pid_t parent) {
  ::setpgid(0, 0);
  // If the engine dies (a crashed rank takes the MPI job down), the command goes too rather than
  // running on unwatched; the check covers an engine that died before this line.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);
  // The engine's handlers (Open MPI installs some) and blocked signals must not leak into the
  // command: a command expects default dispositions, e.g. to die on SIGTERM.
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
  ::close_range(3, ~0U, 0);  // MPI's sockets and shared-memory files stay out of the command
  ::execl("/bin/sh", "sh", "-c", cmd, static_cast<char*>(nullptr));
  ::_exit(127);
}

// Waits up to `ms` milliseconds (forever if negative) for the child to exit; true if it did.
// When `stoppable`, a stop request (SIGUSR2) ends the wait early too.
// A pidfd lets poll() wait on the process with a timeout and no SIGCHLD handler.
inline bool wait_exit(pid_t pid, int pidfd, long ms, int& status, bool stoppable) {
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int r;
    while ((r = ::poll(&p, 1, ms >= 0 ? static_cast<int>(ms) : -1)) < 0 && errno == EINTR) {
      if (stoppable && stop_requested) return false;
    }
    if (r == 0) return false;
  } else {
    // No pidfd (kernel before 5.3): check every 10 ms.
    for (long waited = 0;; waited += 10) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return true;
      if (r < 0 && errno != EINTR) fail("waitpid");
      if ((ms >= 0 && waited >= ms) || (stoppable && stop_requested)) return false;
      ::usleep(10000);
    }
  }
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("waitpid");
  return true;
}

}  // namespace detail

// Runs `cmd` with /bin/sh -c; after timeout_s seconds (0: never), or on SIGUSR2 when
// stop_on_usr2, its process group gets SIGTERM, and SIGKILL grace_s seconds later if the shell is
// still there.
inline Outcome run_shell(const std::string& cmd, double timeout_s, double grace_s,
                         bool stop_on_usr2) {
  using namespace detail;
  if (stop_on_usr2) {
    // Only in an isolated worker process (rank 0 asks so only then): an engine's own handlers
    // are not ours to change.
    stop_requested = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR2, &sa, nullptr);  // no SA_RESTART: poll returns EINTR
  }
  Fd out(::memfd_create("farm-stdout", MFD_CLOEXEC));
  Fd err(::memfd_create("farm-stderr", MFD_CLOEXEC));
  Fd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // commands must not read the job's stdin
  if (out.fd < 0 || err.fd < 0) fail("memfd_create for the command's output");
  if (in.fd < 0) fail("open /dev/null");

  const pid_t self = ::getpid();
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) exec_shell(cmd.c_str(), in.fd, out.fd, err.fd, self);
  ::setpgid(pid, pid);  // also here, so that kill(-pid) works even before the child ran
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  Outcome o;
  int status = 0;
  long timeout_ms = timeout_s > 0 ? static_cast<long>(timeout_s * 1000) : -1;
  if (stop_requested || !wait_exit(pid, pidfd.fd, timeout_ms, status, true)) {
    o.halted = stop_requested != 0;
    o.timed_out = !o.halted;
    o.signal = SIGTERM;
    ::kill(-pid, SIGTERM);
    if (!wait_exit(pid, pidfd.fd, static_cast<long>(grace_s * 1000), status, false)) {
      o.signal = SIGKILL;
      ::kill(-pid, SIGKILL);
      wait_exit(pid, pidfd.fd, -1, status, false);
    }
    ::kill(-pid, SIGKILL);  // whatever else the command left in its group
  }
  o.runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (WIFEXITED(status)) o.exitval = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  if (o.timed_out || o.halted) {
    o.exitval = -1;
    if (o.signal == 0) o.signal = SIGTERM;  // the shell exited on our SIGTERM after trapping it
  }
  o.out = read_all(out.fd);
  o.err = read_all(err.fd);
  return o;
}

}  // namespace farm
