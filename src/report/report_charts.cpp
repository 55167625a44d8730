// The report's SVG charts. Coordinates are in a fixed viewBox that the page scales to its width;
// each bar carries a <title>, which browsers show on hover without any script.
#include "report/report_charts.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/format.h>

namespace mpiply::detail {

namespace {

constexpr double kPlotLeft = 110;   // room for lane labels
constexpr double kPlotWidth = 870;  // time axis
constexpr double kWidth = kPlotLeft + kPlotWidth + 20;

struct Span {
  double t0 = 0, t1 = 0;  // seconds from the first start
};

Span run_span(const std::vector<TaskMetadata>& tasks, TimePoint& origin) {
  bool any = false;
  TimePoint lo{}, hi{};
  for (const auto& m : tasks) {
    if (!task_ran(m)) continue;
    if (!any || *m.started < lo) lo = *m.started;
    if (!any || *m.completed > hi) hi = *m.completed;
    any = true;
  }
  origin = lo;
  return {0, any ? std::max(Seconds(hi - lo).count(), 1e-9) : 1.0};
}

double since(TimePoint origin, TimePoint t) { return Seconds(t - origin).count(); }

// Tick marks and labels of a time axis of `len` seconds at height y.
std::string time_axis(double len, double y) {
  std::string out = fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>", kPlotLeft, y,
      kPlotLeft + kPlotWidth, y);
  for (int i = 0; i <= 5; ++i) {
    double x = kPlotLeft + kPlotWidth * i / 5;
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" class=\"axis\"/>"
                       "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
                       x, y, y + 4, y + 16, html_escape(human_seconds(len * i / 5)));
  }
  return out;
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string human_seconds(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
  if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
  if (s < 120) return fmt::format("{:.3g} s", s);
  auto t = static_cast<long long>(s + 0.5);
  if (t < 7200) return fmt::format("{}:{:02} min", t / 60, t % 60);
  return fmt::format("{}:{:02}:{:02} h", t / 3600, t / 60 % 60, t % 60);
}

bool task_failed(const TaskMetadata& m) {
  return m.status == TaskStatus::error || m.status == TaskStatus::aborted;
}
bool task_ran(const TaskMetadata& m) {
  return m.engine_id >= 0 && m.started && m.completed && !m.reused;
}
double task_seconds(const TaskMetadata& m) {
  return task_ran(m) ? std::max(0.0, Seconds(*m.completed - *m.started).count()) : 0.0;
}

FunctionColours colour_functions(const std::vector<TaskMetadata>& tasks) {
  FunctionColours out;
  for (const auto& m : tasks) out.emplace(m.function, out.size());
  return out;
}

const char* colour_of(std::size_t index) {
  // Tableau's palette without its red, which marks failures.
  static const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                         "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8",
                                         "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94"};
  return kPalette[index % std::size(kPalette)];
}

GanttChart gantt_svg(const std::vector<TaskMetadata>& tasks, const FunctionColours& colours,
                     std::size_t max_bars) {
  GanttChart g;
  TimePoint origin{};
  Span span = run_span(tasks, origin);
  // Lanes: one per (engine, worker thread) that ran a task, in that order.
  std::map<std::pair<int, int>, std::vector<const TaskMetadata*>> lanes;
  for (const auto& m : tasks)
    if (task_ran(m)) lanes[{m.engine_id, m.thread}].push_back(&m);
  g.lanes = lanes.size();
  std::size_t ran = 0;
  for (auto& [lane, list] : lanes) {
    ran += list.size();
    std::sort(list.begin(), list.end(),
              [](auto* a, auto* b) { return *a->started < *b->started; });
  }
  const double lane_h = std::clamp(480.0 / std::max<std::size_t>(g.lanes, 1), 4.0, 22.0);
  const double top = 6, height = top + lane_h * double(g.lanes) + 26;
  const double px = span.t1 / kPlotWidth;  // seconds per pixel
  const bool merge = ran > max_bars;
  g.svg = fmt::format("<svg id=\"gantt\" viewBox=\"0 0 {} {}\" role=\"img\">", kWidth, height);
  std::size_t row = 0;
  for (const auto& [lane, list] : lanes) {
    double y = top + lane_h * double(row++);
    if (row % 2 == 0)
      g.svg += fmt::format("<rect class=\"lane\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                           kPlotLeft, y, kPlotWidth, lane_h);
    if (lane_h >= 8)
      g.svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">engine {} · {}</text>",
                           kPlotLeft - 6, y + lane_h * 0.75, lane.first, lane.second);
    for (std::size_t i = 0; i < list.size();) {
      const TaskMetadata& m = *list[i];
      double a = since(origin, *m.started), b = since(origin, *m.completed);
      std::size_t j = i + 1;
      // Merging (huge runs only): the following tasks of the same function and outcome that
      // start within a pixel of the bar's end join it.
      while (merge && j < list.size() && list[j]->function == m.function &&
             task_failed(*list[j]) == task_failed(m) &&
             since(origin, *list[j]->started) - b < px) {
        b = std::max(b, since(origin, *list[j]->completed));
        ++j;
      }
      bool failed = false;
      for (std::size_t k = i; k < j; ++k) failed = failed || task_failed(*list[k]);
      std::size_t fn = colours.at(m.function);
      std::string title =
          j - i == 1
              ? fmt::format("{}msg {} {}: {} on engine {} thread {} ({}), {}{}",
                            m.run ? fmt::format("run {} ", m.run) : "", m.msg_id,
                            m.function.empty() ? "(unnamed)" : m.function,
                            human_seconds(b - a), m.engine_id, m.thread, m.hostname,
                            to_string(m.status), m.error.empty() ? "" : ": " + m.error)
              : fmt::format("{} tasks of {} on engine {} thread {}, {} in all", j - i,
                            m.function, m.engine_id, m.thread, human_seconds(b - a));
      g.svg += fmt::format(
          "<rect class=\"bar{} fn{}\" data-msg=\"{}\" data-run=\"{}\" x=\"{:.2f}\" y=\"{:.1f}\" "
          "width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}</title></rect>",
          failed ? " failed" : "", fn, m.msg_id, m.run, kPlotLeft + a / px, y + 1,
          std::max(0.5, (b - a) / px), std::max(1.0, lane_h - 2),
          failed ? kFailedColour : colour_of(fn), html_escape(title));
      ++g.bars;
      g.tasks += j - i;
      i = j;
    }
  }
  g.svg += time_axis(span.t1, top + lane_h * double(g.lanes) + 2);
  g.svg += "</svg>";
  return g;
}

std::string utilization_svg(const std::vector<TaskMetadata>& tasks) {
  TimePoint origin{};
  Span span = run_span(tasks, origin);
  std::map<std::pair<int, int>, bool> lanes;
  for (const auto& m : tasks)
    if (task_ran(m)) lanes[{m.engine_id, m.thread}] = true;
  constexpr int kBins = 200;
  std::vector<double> busy(kBins, 0.0);
  const double w = span.t1 / kBins;
  for (const auto& m : tasks) {
    if (!task_ran(m)) continue;
    double a = since(origin, *m.started), b = since(origin, *m.completed);
    int first = std::clamp(static_cast<int>(a / w), 0, kBins - 1);
    int last = std::clamp(static_cast<int>(b / w), 0, kBins - 1);
    for (int k = first; k <= last; ++k)
      busy[k] += std::max(0.0, std::min(b, (k + 1) * w) - std::max(a, k * w));
  }
  constexpr double kTop = 8, kH = 140;
  std::string pts = fmt::format("{},{}", kPlotLeft, kTop + kH);
  double lanes_n = std::max<double>(1.0, double(lanes.size()));
  double mean = 0;
  for (int k = 0; k < kBins; ++k) {
    double u = std::min(1.0, busy[k] / (w * lanes_n));
    mean += u / kBins;
    pts += fmt::format(" {:.1f},{:.1f} {:.1f},{:.1f}", kPlotLeft + kPlotWidth * k / kBins,
                       kTop + kH * (1 - u), kPlotLeft + kPlotWidth * (k + 1) / kBins,
                       kTop + kH * (1 - u));
  }
  pts += fmt::format(" {},{}", kPlotLeft + kPlotWidth, kTop + kH);
  std::string svg = fmt::format(
      "<svg id=\"utilization\" viewBox=\"0 0 {} {}\" role=\"img\" data-mean=\"{:.4f}\">", kWidth,
      kTop + kH + 26, mean);
  for (int pct : {0, 50, 100})
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"grid\"/>"
                       "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}%</text>",
                       kPlotLeft, kTop + kH * (1 - pct / 100.0), kPlotLeft + kPlotWidth,
                       kPlotLeft - 6, kTop + kH * (1 - pct / 100.0) + 4, pct);
  svg += fmt::format("<polygon class=\"util\" points=\"{}\"><title>busy engine threads, {} lanes; "
                     "mean {:.1f}%</title></polygon>",
                     pts, lanes.size(), 100 * mean);
  svg += time_axis(span.t1, kTop + kH) + "</svg>";
  return svg;
}

std::string histograms_html(const std::vector<TaskMetadata>& tasks,
                            const FunctionColours& colours) {
  std::map<std::string, std::vector<double>> by_fn;
  for (const auto& m : tasks)
    if (task_ran(m)) by_fn[m.function].push_back(task_seconds(m));
  std::string out;
  constexpr int kBins = 24;
  constexpr double kW = 320, kH = 110, kL = 34, kB = 30;
  for (auto& [fn, d] : by_fn) {
    auto [lo_it, hi_it] = std::minmax_element(d.begin(), d.end());
    double lo = *lo_it, hi = *hi_it;
    // Durations spread over more than a decade are binned on a log scale.
    bool log = lo > 0 && hi / lo > 20;
    auto pos = [&](double v) {
      if (hi <= lo) return 0.5;
      return log ? std::log(v / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
    };
    std::vector<std::size_t> count(kBins, 0);
    for (double v : d) ++count[std::min(kBins - 1, static_cast<int>(pos(v) * kBins))];
    std::size_t peak = *std::max_element(count.begin(), count.end());
    std::string svg = fmt::format("<svg class=\"hist\" viewBox=\"0 0 {} {}\" role=\"img\">",
                                  kW, kH + kB);
    for (int k = 0; k < kBins; ++k) {
      if (count[k] == 0) continue;
      double h = (kH - 10) * double(count[k]) / double(peak);
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                         "fill=\"{}\"><title>{} task{}</title></rect>",
                         kL + (kW - kL - 6) * k / kBins, kH - h, (kW - kL - 6) / kBins - 1, h,
                         colour_of(colours.at(fn)), count[k], count[k] == 1 ? "" : "s");
    }
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"axis\"/>"
        "<text x=\"{0}\" y=\"{3}\">{4}</text><text x=\"{2}\" y=\"{3}\" "
        "text-anchor=\"end\">{5}</text><text x=\"{6}\" y=\"{7}\" text-anchor=\"middle\">{8}"
        "</text><text x=\"{9}\" y=\"12\" text-anchor=\"end\">{10}</text></svg>",
        kL, kH, kW - 6, kH + 14, html_escape(human_seconds(lo)), html_escape(human_seconds(hi)),
        (kL + kW) / 2, kH + 27, log ? "duration (log scale)" : "duration", kL - 4, peak);
    std::sort(d.begin(), d.end());
    out += fmt::format(
        "<figure class=\"histogram\"><figcaption><span class=\"swatch\" "
        "style=\"background:{}\"></span>{} &mdash; {} task{}, median {}</figcaption>{}</figure>",
        colour_of(colours.at(fn)), html_escape(fn.empty() ? "(unnamed)" : fn), d.size(),
        d.size() == 1 ? "" : "s", html_escape(human_seconds(d[d.size() / 2])), svg);
  }
  return out.empty() ? "<p>No task ran on an engine.</p>" : out;
}

}  // namespace mpiply::detail
