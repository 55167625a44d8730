#pragma once
// Whether progress output on a descriptor reaches a person's terminal (src/support/terminal.cpp).
namespace mpiply::detail {

// isatty(fd), corrected for MPI launchers: Open MPI hands every rank's stdout a pty of its own
// even when mpirun's output goes to a log file, and its stderr a pipe even when mpirun's is a
// terminal, so for fds 1 and 2 under a launcher (and not redirected to a file below it) the
// answer is whether the launcher's own fd is a terminal. MPIPLY_PROGRESS=lines or redraw
// overrides (auto, the default, guesses as above).
bool is_terminal(int fd);

// Whether two descriptors end in the same file, pipe or terminal, seen through an MPI launcher
// as is_terminal sees it: under `mpirun ... > log 2>&1` a rank's fds 1 and 2 are two channels of
// the launcher's, which writes both to one file without keeping their order.
bool same_destination(int fd_a, int fd_b);

}  // namespace mpiply::detail
