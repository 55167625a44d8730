#pragma once
// A report of a run as one self-contained HTML file (inline SVG, CSS and a little JS; nothing is
// fetched, so it opens from a copy anywhere): a per-engine Gantt chart of the tasks, engine
// utilization over time, task durations per function, the slowest and the failed tasks with
// their errors, and the run's summary. Client::report writes it from the hub's records, the
// mpiply-db tool (jobs/dbinfo.cpp) from a task database. docs/progress.md, "A report of a run".
#include <cstddef>
#include <string>
#include <vector>

#include <mpiply/metadata.hpp>

namespace mpiply {

struct ReportOptions {
  std::string title = "mpiply run";
  // Lines shown under the title as they are (e.g. the runs a database holds).
  std::vector<std::string> notes;
  std::size_t slowest = 20;       // rows of the slowest-tasks table
  std::size_t failed = 500;       // failed tasks listed at most (the count is always given)
  // Up to this many tasks the Gantt chart draws one bar per task; beyond it, tasks of the same
  // function and outcome less than a pixel apart on one lane are drawn as one bar, so that a
  // run of millions of tasks still gives a file a browser opens.
  std::size_t max_bars = 20000;
};

// The report as HTML text. Tasks without start and end stamps (reused from the task database,
// never run) count in the summary and have no bar.
std::string report_html(const std::vector<TaskMetadata>& tasks, const ReportOptions& options = {});
// Writes report_html(tasks, options) to path; Error naming the path if it cannot.
void write_report(const std::vector<TaskMetadata>& tasks, const std::string& path,
                  const ReportOptions& options = {});

}  // namespace mpiply
