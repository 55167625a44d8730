// dbinfo: what a task database holds — the runs that wrote it, how many tasks ended how, and the
// failed ones — for a job that finished, crashed or was killed, or one still running (then it
// reads a snapshot copy: the running job holds the file). No MPI: run it as a plain program.
//
//   ./build/jobs/dbinfo results.db                 runs, counts by status, first 20 failures
//   ./build/jobs/dbinfo results.db --failed 0      ... every failure
//   ./build/jobs/dbinfo results.db --tasks --run 2 ... and every task of run 2
//   ./build/jobs/dbinfo results.db --status error  query mode: the failed tasks with their errors
//   ./build/jobs/dbinfo results.db --function f --run 3 --engine 0 --count
//   ./build/jobs/dbinfo report results.db -o report.html    the last run as an HTML report
//   ./build/jobs/dbinfo export results.db --format csv -o tasks.csv   one row per task
// Query mode (any of --status, --function, --engine, --msg, --host) runs the hub's db_query over
// the file (docs/database.md, "Reading earlier runs") and prints the matching tasks; export
// writes the tasks that match them (all tasks without a condition).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <mpiply/errors.hpp>
#include <mpiply/query.hpp>
#include <mpiply/report.hpp>

#include "common/program_name.hpp"
#include "taskdb/task_db.hpp"  // from src/: the task database is not public API yet

using mpiply::detail::RunInfo;
using mpiply::detail::StoredTask;
using mpiply::detail::TaskDbReader;

namespace po = boost::program_options;

namespace {

std::string clock_time(std::int64_t ns) {
  if (ns == 0) return "-";
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string run_line(const RunInfo& r) {
  std::string end = r.finished == 0
                        ? std::string("did not close (crashed, killed, or still running)")
                        : fmt::format("closed after {:.1f} s", double(r.finished - r.started) * 1e-9);
  return fmt::format("run {}: {} on {} (pid {}, {} ranks), {}; {} tasks: {} ok, {} failed, {} "
                     "reused",
                     r.id, clock_time(r.started), r.hostname, r.pid, r.ranks, end, r.tasks, r.ok,
                     r.failed, r.reused);
}

std::string task_line(const mpiply::TaskMetadata& m) {
  std::string took = m.completed && m.started
                         ? fmt::format("{:.3f} ms", std::chrono::duration<double, std::milli>(
                                                        *m.completed - *m.started)
                                                        .count())
                         : std::string("-");
  return fmt::format("run {} msg {} {}({} item{}) {}{} engine {} on {} pid {}, {}{}{}", m.run,
                     m.msg_id, m.function, m.items, m.items == 1 ? "" : "s",
                     mpiply::to_string(m.status), m.reused ? " (reused)" : "", m.engine_id,
                     m.hostname.empty() ? "-" : m.hostname, m.pid, took,
                     m.error.empty() ? "" : ": ", m.error);
}
std::string task_line(const StoredTask& t) { return task_line(mpiply::detail::to_metadata(t)); }

// Query mode: the conditions given on the command line, as db_query's Query.
mpiply::Query build_query(const po::variables_map& vm, std::int64_t run) {
  mpiply::Query q;
  if (run != 0) q.where("run", "$eq", run);
  if (vm.count("status")) {
    const auto& ss = vm["status"].as<std::vector<std::string>>();
    std::vector<mpiply::QueryOperand> ops(ss.begin(), ss.end());
    q = q && mpiply::field("status").in(ops);
  }
  if (vm.count("function")) q.where("function", "$eq", vm["function"].as<std::string>());
  if (vm.count("host")) q.where("hostname", "$eq", vm["host"].as<std::string>());
  if (vm.count("engine")) q.where("engine_id", "$eq", vm["engine"].as<long>());
  if (vm.count("msg")) q.where("msg_id", "$eq", vm["msg"].as<long>());
  return q;
}

// ---- export: one row per task

std::int64_t ns_of(const std::optional<mpiply::TimePoint>& t) {
  return t ? std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count()
           : 0;
}

constexpr const char* kColumns[] = {"run",         "msg_id",     "function",   "status",
                                    "reused",      "engine_id",  "hostname",   "pid",
                                    "thread",      "items",      "submitted_ns", "started_ns",
                                    "completed_ns", "received_ns", "duration_s", "error"};

nlohmann::json task_json(const mpiply::TaskMetadata& m) {
  auto stamp = [](const std::optional<mpiply::TimePoint>& t) {
    return t ? nlohmann::json(ns_of(t)) : nlohmann::json(nullptr);
  };
  nlohmann::json duration = nullptr;
  if (m.started && m.completed)
    duration = std::chrono::duration<double>(*m.completed - *m.started).count();
  return {{"run", m.run},
          {"msg_id", m.msg_id},
          {"function", m.function},
          {"status", mpiply::to_string(m.status)},
          {"reused", m.reused},
          {"engine_id", m.engine_id},
          {"hostname", m.hostname},
          {"pid", m.pid},
          {"thread", m.thread},
          {"items", m.items},
          {"submitted_ns", stamp(m.submitted)},
          {"started_ns", stamp(m.started)},
          {"completed_ns", stamp(m.completed)},
          {"received_ns", stamp(m.received)},
          {"duration_s", duration},
          {"error", m.error}};
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_row(const mpiply::TaskMetadata& m) {
  nlohmann::json j = task_json(m);
  std::string line;
  for (const char* c : kColumns) {
    const auto& v = j[c];
    if (!line.empty() || c != kColumns[0]) line += ',';
    if (v.is_null()) continue;
    line += csv_field(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return line + "\r\n";
}

// Streams the matching tasks to out as CSV (a header row first) or as a JSON array of objects.
std::uint64_t export_tasks(TaskDbReader& db, const mpiply::Query& q, const std::string& format,
                           std::ostream& out) {
  std::uint64_t n = 0;
  if (format == "csv") {
    std::string header;
    for (const char* c : kColumns) header += (header.empty() ? "" : ",") + std::string(c);
    out << header << "\r\n";
  } else {
    out << "[";
  }
  db.query(q, [&](const mpiply::TaskMetadata& m) {
    if (format == "csv") {
      out << csv_row(m);
    } else {
      // Invalid UTF-8 in an error text becomes U+FFFD rather than an unreadable file.
      out << (n ? ",\n " : "\n ")
          << task_json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    ++n;
  });
  if (format != "csv") out << (n ? "\n]\n" : "]\n");
  return n;
}

// Where a report or an export goes: the file -o names, or stdout without it.
template <class F>
void write_output(const std::string& path, F&& write) {
  if (path.empty() || path == "-") {
    write(std::cout);
    std::cout.flush();
    return;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) write(f);
  f.close();
  if (!f)
    throw mpiply::Error(fmt::format("cannot write '{}': {} (does its directory exist, and may "
                                    "this process write there?)",
                                    path, std::strerror(errno)));
}

// The HTML report of one run (the last without --run), titled by the database and the run.
int write_run_report(TaskDbReader& db, std::int64_t run, const std::string& output) {
  auto runs = db.runs();
  if (runs.empty()) throw mpiply::UsageError(fmt::format("{} holds no run", db.path()));
  if (run == 0) run = runs.back().id;
  auto it = std::find_if(runs.begin(), runs.end(), [&](const RunInfo& r) { return r.id == run; });
  if (it == runs.end())
    throw mpiply::UsageError(fmt::format("{} holds no run {} (its runs are 1 to {})", db.path(),
                                         run, runs.back().id));
  std::vector<mpiply::TaskMetadata> tasks;
  db.for_each(run, [&](const StoredTask& t) {
    tasks.push_back(mpiply::detail::to_metadata(t, it->ranks));
  });
  mpiply::ReportOptions o;
  o.title = fmt::format("{}: run {}", db.path(), run);
  o.notes = {fmt::format("database {}, written by {}", db.path(), db.program()), run_line(*it)};
  if (runs.size() > 1)
    o.notes.push_back(fmt::format("the database holds runs 1 to {}; --run picks another",
                                  runs.back().id));
  write_output(output, [&](std::ostream& out) { out << mpiply::report_html(tasks, o); });
  if (!output.empty() && output != "-")
    fmt::print(stderr, "{}: report of run {} ({} tasks) written to {}\n", jobs::tool_name(), run, tasks.size(),
               output);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  jobs::set_tool_name(argv[0], "dbinfo");
  // A first argument "report" or "export" picks that command; without one dbinfo prints.
  std::string command;
  if (argc > 1 && (std::strcmp(argv[1], "report") == 0 || std::strcmp(argv[1], "export") == 0)) {
    command = argv[1];
    --argc;
    ++argv;
  }
  po::options_description opts("options");
  std::string path, output, format = "csv";
  long max_failed = 20;
  std::int64_t run = 0;
  opts.add_options()("help,h", "print this text")(
      "output,o", po::value(&output), "report, export: write to this file (default: stdout)")(
      "format", po::value(&format)->default_value("csv"), "export: csv or json")(
      "db", po::value(&path), "the task database (also the first positional argument)")(
      "failed", po::value(&max_failed)->default_value(20),
      "list at most this many failed tasks (0: all)")(
      "run", po::value(&run)->default_value(0),
      "only this run (0: all; report: the last run)")(
      "tasks", "list every task (of --run, or of all runs)")(
      "status", po::value<std::vector<std::string>>()->composing(),
      "query mode: tasks with this status (ok, error, aborted; repeat for several)")(
      "function", po::value<std::string>(), "query mode: tasks of this function")(
      "engine", po::value<long>(), "query mode: tasks run by this engine id")(
      "host", po::value<std::string>(), "query mode: tasks run on this host")(
      "msg", po::value<long>(), "query mode: the task with this msg id (with --run: of that run)")(
      "limit", po::value<long>()->default_value(100),
      "query mode: print at most this many tasks (0: all)")(
      "count", "query mode: print only how many tasks match");
  po::positional_options_description pos;
  pos.add("db", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "{}: {}; try --help\n", jobs::tool_name(), e.what());
    return 2;
  }
  if (vm.count("help") || path.empty()) {
    fmt::print(
        "usage: {0} DATABASE [--failed N] [--run R] [--tasks]\n"
        "       {0} DATABASE [--run R] [--status S]... [--function F] [--engine E] [--host H]\n"
        "       {1:{2}} [--msg M] [--limit N] [--count]\n"
        "       {0} report DATABASE [-o REPORT.html] [--run R]\n"
        "       {0} export DATABASE [--format csv|json] [-o FILE] [--run R] [conditions]\n\n"
        "Prints the runs recorded in an mpiply task database (MPIPLY_DB), the number of tasks\n"
        "by status, and the failed tasks with their errors. With a condition (query mode) it\n"
        "prints the tasks that meet all of them instead. `report` writes one self-contained\n"
        "HTML page of a run (charts, slowest and failed tasks); `export` writes one row per\n"
        "task (ids, function, status, engine, host, time stamps in ns since the epoch, error).\n"
        "A database that a running job holds is read from a snapshot copy.\n\n",
        jobs::tool_name(), "", jobs::tool_name().size());
    std::cout << opts;
    return path.empty() && !vm.count("help") ? 2 : 0;
  }

  try {
    // A bad condition (e.g. an unknown status) is reported before anything is printed.
    bool query_mode = vm.count("status") || vm.count("function") || vm.count("engine") ||
                      vm.count("host") || vm.count("msg");
    if (command == "export" && format != "csv" && format != "json")
      throw mpiply::UsageError(
          fmt::format("--format '{}' is not a format; give --format csv or --format json", format));
    if (command.empty() && vm.count("output"))
      throw mpiply::UsageError(
          fmt::format("-o/--output is for `{0} report` and `{0} export`", jobs::tool_name()));
    mpiply::Query q = query_mode || command == "export" ? build_query(vm, run) : mpiply::Query();
    auto db = TaskDbReader::open(path);
    if (db->snapshot())
      fmt::print(stderr,
                 "{}: {} is held by a running job; reading a copy of it as of now\n", jobs::tool_name(), path);
    if (command == "export") {
      std::uint64_t n = 0;
      write_output(output, [&](std::ostream& out) { n = export_tasks(*db, q, format, out); });
      if (!output.empty() && output != "-")
        fmt::print(stderr, "{}: {} task{} written to {}\n", jobs::tool_name(), n, n == 1 ? "" : "s", output);
      return 0;
    }
    if (command == "report") return write_run_report(*db, run, output);
    fmt::print("database {}\nwritten by {}\n", path, db->program());
    auto runs = db->runs();
    for (const RunInfo& r : runs)
      if (run == 0 || r.id == run) fmt::print("{}\n", run_line(r));

    if (query_mode) {
      long limit = vm["limit"].as<long>();
      bool count_only = vm.count("count") > 0;
      std::uint64_t matched = 0;
      db->query(q, [&](const mpiply::TaskMetadata& m) {
        ++matched;
        if (!count_only && (limit <= 0 || matched <= static_cast<std::uint64_t>(limit)))
          fmt::print("  {}\n", task_line(m));
      });
      fmt::print("{} task{} match{}{}\n", matched, matched == 1 ? "" : "s",
                 matched == 1 ? "es" : "",
                 !count_only && limit > 0 && matched > static_cast<std::uint64_t>(limit)
                     ? fmt::format(" (first {} shown; --limit 0 shows all)", limit)
                     : std::string());
      return 0;
    }

    std::map<std::string, std::uint64_t> by_status;
    std::uint64_t reused = 0, failed = 0, items = 0;
    std::vector<std::string> failures;
    bool list = vm.count("tasks") > 0;
    db->for_each(run, [&](const StoredTask& t) {
      ++by_status[mpiply::to_string(t.status)];
      items += t.items;
      reused += t.reused;
      if (list) fmt::print("  {}\n", task_line(t));
      if (t.status == mpiply::TaskStatus::error || t.status == mpiply::TaskStatus::aborted) {
        ++failed;
        if (max_failed <= 0 || failures.size() < static_cast<std::size_t>(max_failed))
          failures.push_back(task_line(t));
      }
    });
    std::string counts;
    for (const auto& [status, n] : by_status) counts += fmt::format(" {} {},", status, n);
    if (!counts.empty()) counts.pop_back();
    fmt::print("tasks by status{}:{} ({} items; {} reused from earlier runs)\n",
               run ? fmt::format(" (run {})", run) : std::string(), counts.empty() ? " none" : counts,
               items, reused);
    if (failed > 0) {
      fmt::print("failed tasks ({}{}):\n", failed,
                 failures.size() < failed ? fmt::format(", first {}", failures.size()) : "");
      for (const auto& f : failures) fmt::print("  {}\n", f);
    }
    return 0;
  } catch (const mpiply::UsageError& e) {
    fmt::print(stderr, "{}: {}\n", jobs::tool_name(), e.what());
    return 2;
  } catch (const mpiply::Error& e) {
    fmt::print(stderr, "{}: {}\n", jobs::tool_name(), e.what());
    return 1;
  }
}
