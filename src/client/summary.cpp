// summary(): per engine the tasks run, busy time and share, and the slowest tasks, from the
// public per-task metadata.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/client.hpp>
#include <mpiply/summary.hpp>

#include "client/client_core.hpp"

namespace mpiply {

namespace {
double secs(TimePoint a, TimePoint b) { return Seconds(b - a).count(); }
double span(const TaskMetadata& m) { return secs(*m.started, *m.completed); }
}  // namespace

ResultSummary summarize(const std::vector<TaskMetadata>& tasks, std::size_t slowest) {
  ResultSummary s;
  s.tasks = tasks.size();
  std::map<int, EngineSummary> per;
  std::optional<TimePoint> first, last;
  std::vector<const TaskMetadata*> ran;
  for (const auto& m : tasks) {
    s.items += m.items;
    if (m.status == TaskStatus::error || m.status == TaskStatus::aborted) ++s.failed;
    if (m.status == TaskStatus::aborted) ++s.not_run;
    if (m.reused) ++s.reused;
    if (!m.started || !m.completed || m.engine_id < 0) continue;
    if (m.submitted && m.received) {
      first = first ? std::min(*first, *m.submitted) : *m.submitted;
      last = last ? std::max(*last, *m.received) : *m.received;
    }
    ++s.finished;
    EngineSummary& e = per[m.engine_id];
    e.engine_id = m.engine_id;
    ++e.tasks;
    e.items += m.items;
    e.busy_seconds += span(m);
    s.serial_seconds += span(m);
    ran.push_back(&m);
  }
  if (first && last) s.wall_seconds = std::max(0.0, secs(*first, *last));
  for (auto& [id, e] : per) {
    e.busy_share = s.wall_seconds > 0 ? e.busy_seconds / s.wall_seconds : 0.0;
    e.work_share = s.serial_seconds > 0 ? e.busy_seconds / s.serial_seconds : 0.0;
    s.engines.push_back(e);
  }
  std::size_t k = std::min(slowest, ran.size());
  std::partial_sort(ran.begin(), ran.begin() + static_cast<std::ptrdiff_t>(k), ran.end(),
                    [](auto* a, auto* b) { return span(*a) > span(*b); });
  for (std::size_t i = 0; i < k; ++i) s.slowest.push_back(*ran[i]);
  return s;
}

std::string ResultSummary::to_string() const {
  // Reused and not-run tasks are named only when there are some; a speedup only when tasks ran.
  std::string out = fmt::format(
      "{} tasks ({} items): {} finished{}, {} failed{}; wall {:.3f} s, serial {:.3f} s{}\n",
      tasks, items, finished, reused ? fmt::format(", {} reused from the task database", reused) : "",
      failed, not_run ? fmt::format(" ({} not run)", not_run) : "", wall_seconds, serial_seconds,
      finished > 0 && wall_seconds > 0
          ? fmt::format(" (speedup {:.2f})", serial_seconds / wall_seconds)
          : "");
  out += fmt::format("{:>6} {:>8} {:>9} {:>10} {:>7} {:>7}\n", "engine", "tasks", "items",
                     "busy s", "busy%", "work%");
  for (const auto& e : engines)
    out += fmt::format("{:>6} {:>8} {:>9} {:>10.3f} {:>6.1f}% {:>6.1f}%\n", e.engine_id, e.tasks,
                       e.items, e.busy_seconds, 100 * e.busy_share, 100 * e.work_share);
  if (!slowest.empty()) {
    out += "slowest tasks:\n";
    for (const auto& m : slowest)
      out += fmt::format("  msg {} '{}' on engine {}: {:.3f} s ({} items, {})\n", m.msg_id,
                         m.function, m.engine_id, span(m), m.items, mpiply::to_string(m.status));
  }
  return out;
}

void ResultSummary::print(std::FILE* out) const {
  std::string s = to_string();
  std::fputs(s.c_str(), out);
  std::fflush(out);
}

ResultSummary AsyncResultBase::summary(std::size_t slowest) const {
  return summarize(metadata(), slowest);
}

std::vector<TaskMetadata> Client::all_metadata() const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  std::vector<TaskMetadata> out;
  for (MsgId id = r.table.base_locked(); id < r.table.next_msg_locked(); ++id)
    out.push_back(r.hub.metadata_locked(id));
  return out;
}

ResultSummary Client::summary(std::size_t slowest) const {
  return summarize(all_metadata(), slowest);
}

}  // namespace mpiply
