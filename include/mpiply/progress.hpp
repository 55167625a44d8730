#pragma once
// The line wait_interactive shows: items done / total, percent, rate, elapsed and ETA. Exposed so
// a program can draw its own, and so the format is tested apart from any terminal.
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace mpiply {

// How the items of a result (or of every task so far) stand. `done`: finished, on an engine (ok
// or failed) or reused from the task database (MPIPLY_DB); `reused`: of those, the reused ones,
// which took no time; `not_run`: aborted (by a drain after a signal, or abort()), so never run
// and not done.
struct ProgressCounts {
  std::size_t done = 0, total = 0, reused = 0, not_run = 0;
};

// "1967/2000 items (98.3%), 1200 reused, 33 not run  12.3 items/s  elapsed 3.0s  ETA 0.0s" (the
// reused and not-run parts only when not zero). The rate counts the items that ran, done minus
// reused, since `done_at_start` of them; ETA is "0.0s" once every item is done or not run.
std::string progress_line(const ProgressCounts& counts, double elapsed_seconds,
                          std::size_t done_at_start = 0);

// "37/100 items (37.0%)  12.3 items/s  elapsed 3.0s  ETA 5.1s", no control characters. The rate
// counts the items done since `done_at_start` over `elapsed_seconds`; ETA is "?" while no item
// has finished in that time.
std::string progress_line(std::size_t done, std::size_t total, double elapsed_seconds,
                          std::size_t done_at_start = 0);
// The same line for a terminal: carriage return, the line, and "erase to end of line", so that
// each call overwrites the previous one.
std::string progress_redraw(const std::string& line);
// The bar wait_interactive draws on a terminal, laid out as tqdm draws it, `width` columns wide:
// " 37%|███▋      | 37/100 [00:03<00:05, 12.3 items/s]" and `postfix` (e.g. ", 2 failed")
// before the closing bracket. No control characters (progress_redraw adds them).
std::string progress_bar(std::size_t done, std::size_t total, double elapsed_seconds,
                         std::size_t done_at_start = 0, std::size_t width = 80,
                         std::string_view postfix = {});
// Whether progress on `out` should redraw one line (a bar) or write plain lines: whether `out`
// reaches a person's terminal, seen through mpirun's forwarding (docs/progress.md), or what
// MPIPLY_PROGRESS says. Throws UsageError for a bad MPIPLY_PROGRESS.
bool progress_redraws(std::FILE* out);
// The terminal's width in columns for a bar on `out` (through mpirun too); 80 if unknown.
std::size_t progress_width(std::FILE* out);
// Whether two streams end in the same file, pipe or terminal, seen through mpirun's forwarding
// (`mpirun ... > log 2>&1`). mpirun forwards a rank's stdout and stderr on separate channels and
// does not keep their order, so a program whose progress must follow its output (the farm's
// final count after the last command's output) writes both to one stream when this is true.
bool same_destination(std::FILE* a, std::FILE* b);

}  // namespace mpiply
