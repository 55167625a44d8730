// Is a descriptor a person's terminal? isatty, seen through an MPI launcher's forwarding pty.
#include "support/terminal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {

// Parent pid and command name of pid from /proc, or ppid 0 if unknown.
std::pair<long, std::string> parent_of(long pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  std::getline(f, stat);
  // "pid (comm) state ppid ...": comm may hold spaces, so split at the last ')'.
  auto close = stat.rfind(')');
  auto open = stat.find('(');
  if (close == std::string::npos || open == std::string::npos) return {0, {}};
  long ppid = 0;
  char state = 0;
  if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) != 2) return {0, {}};
  return {ppid, stat.substr(open + 1, close - open - 1)};
}

std::string comm_of(long pid) {
  std::ifstream f(fmt::format("/proc/{}/comm", pid));
  std::string c;
  std::getline(f, c);
  return c;
}

bool fd_is_terminal_of(long pid, int fd) {
  char buf[256];
  ssize_t n = ::readlink(fmt::format("/proc/{}/fd/{}", pid, fd).c_str(), buf, sizeof buf - 1);
  if (n <= 0) return false;  // not ours to read, or closed: not a terminal we can vouch for
  std::string target(buf, static_cast<std::size_t>(n));
  return target.rfind("/dev/pts/", 0) == 0 || target.rfind("/dev/tty", 0) == 0;
}

// The launcher closest to the user among this process's ancestors (mpirun above orted, say), or
// 0 when none is. (srun is not among them: it forwards output through a pipe unless asked for a
// pty with --pty, and then the terminal is real.)
long outermost_launcher() {
  static const std::set<std::string> launchers = {"mpirun", "mpiexec", "orterun", "orted",
                                                  "prte",   "prted",   "prterun"};
  long found = 0;
  long pid = ::getppid();
  for (int depth = 0; depth < 8 && pid > 1; ++depth) {
    if (launchers.count(comm_of(pid)))
      found = pid;
    else if (found != 0)
      break;  // above the launchers: the user's shell
    pid = parent_of(pid).first;
  }
  return found;
}

// Whether this process's fd goes to the launcher's fd of the same number: a pipe or socket (the
// launcher's forwarding) does; a regular file or anything else opened below the launcher does not.
bool forwarded(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

}  // namespace

bool is_terminal(int fd) {
  if (const char* m = std::getenv("MPIPLY_PROGRESS"); m && *m) {
    std::string mode = m;
    if (mode == "lines") return false;
    if (mode == "redraw") return true;
    if (mode != "auto")
      throw UsageError(fmt::format("MPIPLY_PROGRESS is '{}'; use lines, redraw or auto", mode));
  }
  const bool own = ::isatty(fd) == 1;
  if (fd != 1 && fd != 2) return own;
  // Under a launcher, the launcher closest to the user decides: Open MPI gives a rank's stdout a
  // pty but its stderr a pipe, whatever mpirun's own are. A rank's fd that is a regular file
  // (redirected below the launcher) is no terminal, whatever the launcher's.
  if (!own && !forwarded(fd)) return false;
  const long launcher = outermost_launcher();
  return launcher != 0 ? fd_is_terminal_of(launcher, fd) : own;
}

bool same_destination(int fd_a, int fd_b) {
  // Where each fd ends: the launcher's fd for a forwarded 1 or 2 under a launcher (Open MPI's pty
  // for stdout counts as forwarded), else this process's own.
  const long launcher = outermost_launcher();
  auto where = [&](int fd, struct stat& st) {
    const bool via_launcher =
        launcher != 0 && (fd == 1 || fd == 2) && (::isatty(fd) == 1 || forwarded(fd));
    if (via_launcher) return ::stat(fmt::format("/proc/{}/fd/{}", launcher, fd).c_str(), &st) == 0;
    return ::fstat(fd, &st) == 0;
  };
  struct stat a {}, b {};
  if (!where(fd_a, a) || !where(fd_b, b)) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace mpiply::detail
