#pragma once
// The report's charts as inline SVG text (report_html.cpp puts them in the page): the Gantt chart
// of tasks per engine thread, utilization over time, and one duration histogram per function.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/metadata.hpp>

namespace mpiply::detail {

// Text safe inside HTML elements and attribute values.
std::string html_escape(std::string_view s);
// "850 us", "12.3 ms", "4.56 s", "3:07 min".
std::string human_seconds(double s);

bool task_failed(const TaskMetadata& m);
bool task_ran(const TaskMetadata& m);  // has an engine, start and end stamps
double task_seconds(const TaskMetadata& m);

// Each function's colour index (by first appearance): the legend, bars and histograms agree.
using FunctionColours = std::map<std::string, std::size_t>;
FunctionColours colour_functions(const std::vector<TaskMetadata>& tasks);
const char* colour_of(std::size_t index);
inline constexpr const char* kFailedColour = "#d62728";

struct GanttChart {
  std::string svg;
  std::size_t bars = 0;    // rect elements drawn
  std::size_t tasks = 0;   // tasks they stand for
  std::size_t lanes = 0;   // engine threads that ran a task
};
GanttChart gantt_svg(const std::vector<TaskMetadata>& tasks, const FunctionColours& colours,
                     std::size_t max_bars);
// Busy engine threads over the lanes that ran tasks, in time bins across the run.
std::string utilization_svg(const std::vector<TaskMetadata>& tasks);
// One histogram of completed - started per function (tasks that ran).
std::string histograms_html(const std::vector<TaskMetadata>& tasks,
                            const FunctionColours& colours);

}  // namespace mpiply::detail
