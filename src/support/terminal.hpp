#pragma once
// Whether progress output on a descriptor reaches a person's terminal (src/support/terminal.cpp).
namespace mpiply::detail {

// isatty(fd), corrected for MPI launchers: Open MPI hands every rank's stdout a pty of its own
// even when mpirun's output goes to a log file, and its stderr a pipe even when mpirun's is a
// terminal, so for fds 1 and 2 under a launcher (and not redirected to a file below it) the
// answer is whether the launcher's own fd is a terminal. MPIPLY_PROGRESS=lines or redraw
// overrides (auto, the default, guesses as above).
bool is_terminal(int fd);

}  // namespace mpiply::detail
