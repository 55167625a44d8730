// The Chrome trace event file (Perfetto, chrome://tracing) of a set of tasks, written with
// nlohmann-json from the public per-task metadata.
#include <algorithm>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <mpiply/async_result.hpp>
#include <mpiply/client.hpp>
#include <mpiply/summary.hpp>

namespace mpiply {

namespace {

using nlohmann::json;

std::optional<TimePoint> origin_of(const std::vector<TaskMetadata>& tasks) {
  std::optional<TimePoint> o;
  for (const auto& m : tasks)
    for (const auto& t : {m.submitted, m.started, m.completed, m.received})
      if (t) o = o ? std::min(*o, *t) : *t;
  return o;
}

}  // namespace

std::string timeline_json(const std::vector<TaskMetadata>& tasks) {
  auto origin = origin_of(tasks).value_or(TimePoint{});
  auto us = [&](TimePoint t) {
    return std::chrono::duration<double, std::micro>(t - origin).count();
  };
  int max_engine = -1;
  for (const auto& m : tasks) max_engine = std::max(max_engine, m.engine_id);
  const int client_pid = max_engine + 1;

  json events = json::array();
  // Track names: one process per engine, and the client's after them.
  std::vector<bool> named(static_cast<std::size_t>(client_pid), false);
  for (const auto& m : tasks) {
    if (m.engine_id < 0 || named[static_cast<std::size_t>(m.engine_id)]) continue;
    named[static_cast<std::size_t>(m.engine_id)] = true;
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", m.engine_id}, {"tid", 0},
                      {"args", {{"name", fmt::format("engine {} (rank {} on {}, pid {})",
                                                     m.engine_id, m.rank, m.hostname, m.pid)}}}});
    events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", m.engine_id},
                      {"tid", 0}, {"args", {{"sort_index", m.engine_id + 1}}}});
  }
  events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", client_pid}, {"tid", 0},
                    {"args", {{"name", "client (rank 0): submitted / received"}}}});
  events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", client_pid},
                    {"tid", 0}, {"args", {{"sort_index", 0}}}});

  for (const auto& m : tasks) {
    json args = {{"msg_id", m.msg_id},
                 {"function", m.function},
                 {"status", to_string(m.status)},
                 {"items", m.items},
                 {"engine_id", m.engine_id}};
    if (!m.error.empty()) args["error"] = m.error;
    if (m.submitted) args["submitted_us"] = us(*m.submitted);
    if (m.received) args["received_us"] = us(*m.received);
    if (m.started && m.completed) {
      events.push_back({{"ph", "X"}, {"cat", "task"}, {"name", m.function},
                        {"pid", m.engine_id}, {"tid", m.thread}, {"ts", us(*m.started)},
                        {"dur", std::max(0.0, us(*m.completed) - us(*m.started))},
                        {"args", args}});
    }
    // Instants on the client's track: when rank 0 took the task, and when its result arrived.
    if (m.submitted)
      events.push_back({{"ph", "i"}, {"s", "t"}, {"cat", "submit"},
                        {"name", "submit " + m.function}, {"pid", client_pid}, {"tid", 0},
                        {"ts", us(*m.submitted)}, {"args", {{"msg_id", m.msg_id}}}});
    if (m.received)
      events.push_back({{"ph", "i"}, {"s", "t"}, {"cat", "receive"},
                        {"name", "receive " + m.function}, {"pid", client_pid}, {"tid", 1},
                        {"ts", us(*m.received)},
                        {"args", {{"msg_id", m.msg_id}, {"status", to_string(m.status)}}}});
  }
  json doc = {{"traceEvents", std::move(events)},
              {"displayTimeUnit", "ms"},
              {"otherData",
               {{"generator", "mpiply"},
                {"tasks", tasks.size()},
                {"origin_unix_us",
                 std::chrono::duration<double, std::micro>(origin.time_since_epoch()).count()}}}};
  return doc.dump(1);
}

void write_timeline(const std::vector<TaskMetadata>& tasks, const std::string& path) {
  std::string text = timeline_json(tasks);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text << '\n';
  f.close();
  if (!f)
    throw Error(fmt::format("write_timeline: cannot write '{}' (does its directory exist, and "
                            "may this process write there?)",
                            path));
}

void AsyncResultBase::write_timeline(const std::string& path) const {
  mpiply::write_timeline(metadata(), path);
}

void Client::write_timeline(const std::string& path) const {
  mpiply::write_timeline(all_metadata(), path);
}

}  // namespace mpiply
