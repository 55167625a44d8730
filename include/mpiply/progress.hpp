#pragma once
// The line wait_interactive shows: items done / total, percent, rate, elapsed and ETA. Exposed so
// a program can draw its own, and so the format is tested apart from any terminal.
#include <cstddef>
#include <string>

namespace mpiply {

// "37/100 items (37.0%)  12.3 items/s  elapsed 3.0s  ETA 5.1s", no control characters. The rate
// counts the items done since `done_at_start` over `elapsed_seconds`; ETA is "?" while no item
// has finished in that time.
std::string progress_line(std::size_t done, std::size_t total, double elapsed_seconds,
                          std::size_t done_at_start = 0);
// The same line for a terminal: carriage return, the line, and "erase to end of line", so that
// each call overwrites the previous one.
std::string progress_redraw(const std::string& line);

}  // namespace mpiply
