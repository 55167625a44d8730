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
  struct stat st {};
  if (!own && (::fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
    return false;
  // (srun is not among them: it forwards output through a pipe unless asked for a pty with
  // --pty, and then the terminal is real.)
  static const std::set<std::string> launchers = {"mpirun", "mpiexec", "orterun", "orted",
                                                  "prte",   "prted",   "prterun"};
  bool under = false, terminal = true;
  long pid = ::getppid();
  for (int depth = 0; depth < 8 && pid > 1; ++depth) {
    std::string comm = comm_of(pid);
    if (!launchers.count(comm)) {
      if (under) break;  // above the launchers: the user's shell
    } else {
      under = true;
      terminal = fd_is_terminal_of(pid, fd);
    }
    pid = parent_of(pid).first;
  }
  return under ? terminal : own;
}

}  // namespace mpiply::detail
