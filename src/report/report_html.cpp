// The report page: summary, charts (report_charts.cpp), the slowest and the failed tasks. One
// file with its CSS and script inline: it is copied off clusters and opened without a network.
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include <mpiply/errors.hpp>
#include <mpiply/report.hpp>

#include "report/report_charts.hpp"

namespace mpiply {

namespace {

using namespace detail;

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
.notes{color:#555;font-family:monospace;white-space:pre-wrap;margin:.3em 0}
svg{width:100%;height:auto;font-size:11px}svg text{fill:#444}
.axis{stroke:#888}.grid{stroke:#e4e4e4}.lane{fill:#f6f6f6}.util{fill:#6baed6;stroke:#2171b5}
.bar.failed{stroke:#000;stroke-width:.6}
svg.focus .bar{opacity:.12}svg.focus .bar.sel{opacity:1}
.legend span{display:inline-block;margin:0 1em .3em 0;cursor:default}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-1px}
.histograms{display:flex;flex-wrap:wrap;gap:1em}.histogram{margin:0;width:330px}
figcaption{font-size:.9em}
table{border-collapse:collapse;font-size:.92em;margin:.4em 0}
td,th{padding:.15em .7em;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
td.num,th.num{text-align:right}.err{font-family:monospace;white-space:pre-wrap;color:#a00}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:.1em 1.2em}dl.summary dd{margin:0}
)";

// Hovering a function in the legend brings its bars forward.
constexpr const char* kScript = R"(
document.querySelectorAll('.legend [data-fn]').forEach(function(el){
  var g=document.getElementById('gantt');if(!g)return;
  el.addEventListener('mouseenter',function(){g.classList.add('focus');
    g.querySelectorAll('.fn'+el.dataset.fn).forEach(function(b){b.classList.add('sel');});});
  el.addEventListener('mouseleave',function(){g.classList.remove('focus');
    g.querySelectorAll('.sel').forEach(function(b){b.classList.remove('sel');});});
});
)";

std::string task_id(const TaskMetadata& m) {
  return m.run ? fmt::format("{}:{}", m.run, m.msg_id) : fmt::format("{}", m.msg_id);
}

std::string where(const TaskMetadata& m) {
  if (m.engine_id < 0) return m.reused ? "reused" : "-";
  return fmt::format("engine {} on {}", m.engine_id, m.hostname.empty() ? "-" : m.hostname);
}

std::string summary_html(const std::vector<TaskMetadata>& tasks, std::size_t lanes) {
  std::size_t ran = 0, reused = 0, ok = 0, error = 0, aborted = 0, waiting = 0, items = 0;
  double busy = 0;
  std::optional<TimePoint> first, last;
  auto widen = [&](const std::optional<TimePoint>& a, const std::optional<TimePoint>& b) {
    if (!a || !b) return;
    first = first ? std::min(*first, *a) : *a;
    last = last ? std::max(*last, *b) : *b;
  };
  std::map<int, std::pair<std::size_t, double>> engines;  // tasks, busy seconds
  for (const auto& m : tasks) {
    items += m.items;
    switch (m.status) {
      case TaskStatus::ok: ++ok; break;
      case TaskStatus::error: ++error; break;
      case TaskStatus::aborted: ++aborted; break;
      default: ++waiting;
    }
    if (m.reused) ++reused;
    if (!task_ran(m)) continue;
    ++ran;
    busy += task_seconds(m);
    auto& e = engines[m.engine_id];
    ++e.first;
    e.second += task_seconds(m);
    widen(m.started, m.completed);
    widen(m.submitted, m.received);
  }
  double wall = first ? Seconds(*last - *first).count() : 0.0;
  std::string out = "<dl class=\"summary\">";
  auto row = [&](std::string_view k, const std::string& v) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>", k, v);
  };
  row("tasks", fmt::format("<span id=\"n-tasks\">{}</span> ({} items)", tasks.size(), items));
  row("ran on engines", fmt::format("<span id=\"n-ran\">{}</span>", ran));
  row("reused from the task database", fmt::format("<span id=\"n-reused\">{}</span>", reused));
  row("outcome", fmt::format("{} ok, <span id=\"n-failed\">{}</span> failed, {} aborted or not "
                             "run{}",
                             ok, error, aborted,
                             waiting ? fmt::format(", {} not finished", waiting) : ""));
  row("wall time of the tasks that ran", html_escape(human_seconds(wall)));
  row("busy time, summed", html_escape(human_seconds(busy)));
  if (ran > 0 && wall > 0)
    row("speedup (busy / wall)",
        fmt::format("{:.2f} over {} engine thread{}", busy / wall, lanes, lanes == 1 ? "" : "s"));
  out += "</dl>";
  if (!engines.empty()) {
    out += "<table><tr><th class=\"num\">engine</th><th class=\"num\">tasks</th><th "
           "class=\"num\">busy</th><th class=\"num\">busy share of wall</th></tr>";
    for (const auto& [id, e] : engines)
      out += fmt::format("<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
                         "class=\"num\">{}</td><td class=\"num\">{:.1f}%</td></tr>",
                         id, e.first, html_escape(human_seconds(e.second)),
                         wall > 0 ? 100 * e.second / wall : 0.0);
    out += "</table>";
  }
  return out;
}

std::string slowest_html(const std::vector<TaskMetadata>& tasks, std::size_t n) {
  std::vector<const TaskMetadata*> ran;
  for (const auto& m : tasks)
    if (task_ran(m)) ran.push_back(&m);
  n = std::min(n, ran.size());
  std::partial_sort(ran.begin(), ran.begin() + static_cast<std::ptrdiff_t>(n), ran.end(),
                    [](auto* a, auto* b) { return task_seconds(*a) > task_seconds(*b); });
  if (n == 0) return "<p>No task ran on an engine.</p>";
  std::string out = "<table id=\"slowest\"><tr><th>task</th><th>function</th><th "
                    "class=\"num\">duration</th><th>where</th><th>status</th><th "
                    "class=\"num\">items</th></tr>";
  for (std::size_t i = 0; i < n; ++i) {
    const TaskMetadata& m = *ran[i];
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>"
                       "<td class=\"num\">{}</td></tr>",
                       task_id(m), html_escape(m.function), html_escape(human_seconds(task_seconds(m))),
                       html_escape(where(m)), to_string(m.status), m.items);
  }
  return out + "</table>";
}

std::string failed_html(const std::vector<TaskMetadata>& tasks, std::size_t max) {
  std::size_t failed = 0;
  std::string rows;
  for (const auto& m : tasks) {
    if (!task_failed(m)) continue;
    if (++failed > max) continue;
    rows += fmt::format("<tr class=\"failed-task\" data-msg=\"{}\" data-run=\"{}\"><td>{}</td>"
                        "<td>{}</td><td>{}</td><td>{}</td><td class=\"err\">{}</td></tr>",
                        m.msg_id, m.run, task_id(m), html_escape(m.function),
                        html_escape(where(m)), to_string(m.status), html_escape(m.error));
  }
  if (failed == 0) return "<p id=\"failed\">No task failed.</p>";
  return fmt::format("<p>{} task{} failed{}.</p><table id=\"failed\"><tr><th>task</th>"
                     "<th>function</th><th>where</th><th>status</th><th>error</th></tr>{}</table>",
                     failed, failed == 1 ? "" : "s",
                     failed > max ? fmt::format(" (the first {} are listed)", max) : "", rows);
}

}  // namespace

std::string report_html(const std::vector<TaskMetadata>& tasks, const ReportOptions& options) {
  FunctionColours colours = colour_functions(tasks);
  GanttChart gantt = gantt_svg(tasks, colours, options.max_bars);
  std::string notes;
  for (const auto& n : options.notes) notes += html_escape(n) + "\n";
  std::string legend;
  for (const auto& [fn, k] : colours)
    legend += fmt::format("<span data-fn=\"{}\"><span class=\"swatch\" style=\"background:{}\">"
                          "</span>{}</span>",
                          k, colour_of(k), html_escape(fn.empty() ? "(unnamed)" : fn));
  legend += fmt::format("<span><span class=\"swatch\" style=\"background:{}\"></span>failed"
                        "</span>",
                        kFailedColour);
  std::string merged =
      gantt.bars < gantt.tasks
          ? fmt::format("<p>{} tasks drawn as {} bars: tasks of one function and outcome less "
                        "than a pixel apart on a lane share a bar.</p>",
                        gantt.tasks, gantt.bars)
          : "";
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"generator\" content=\"mpiply\"><title>{0}</title><style>{1}</style></head>"
      "<body><h1>{0}</h1><div class=\"notes\">{2}</div>"
      "<h2>Summary</h2>{3}"
      "<h2>Tasks per engine thread</h2><div class=\"legend\">{4}</div>{5}{6}"
      "<h2>Engine utilization</h2><p>The share of engine threads busy with a task, over the run."
      "</p>{7}"
      "<h2>Task durations per function</h2><div class=\"histograms\">{8}</div>"
      "<h2>Slowest tasks</h2>{9}"
      "<h2>Failed tasks</h2>{10}"
      "<script>{11}</script></body></html>\n",
      html_escape(options.title), kStyle, notes, summary_html(tasks, gantt.lanes), legend,
      gantt.lanes ? gantt.svg : "<p>No task ran on an engine.</p>", merged,
      utilization_svg(tasks), histograms_html(tasks, colours), slowest_html(tasks, options.slowest),
      failed_html(tasks, options.failed), kScript);
}

void write_report(const std::vector<TaskMetadata>& tasks, const std::string& path,
                  const ReportOptions& options) {
  std::string text = report_html(tasks, options);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f)
    throw Error(fmt::format("write_report: cannot write '{}' (does its directory exist, and may "
                            "this process write there?)",
                            path));
}

}  // namespace mpiply
