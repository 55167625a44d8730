// dbinfo: what a task database holds — the runs that wrote it, how many tasks ended how, and the
// failed ones — for a job that finished, or one that crashed or was killed. No MPI: run it as a
// plain program (not while the job that writes the database is running: it holds the file).
//
//   ./build/jobs/dbinfo results.db                 runs, counts by status, first 20 failures
//   ./build/jobs/dbinfo results.db --failed 0      ... every failure
//   ./build/jobs/dbinfo results.db --tasks --run 2 ... and every task of run 2
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/errors.hpp>

#include "task_db.hpp"  // from src/: the task database is not public API yet

using mpiply::detail::RunInfo;
using mpiply::detail::StoredTask;
using mpiply::detail::TaskDbReader;

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

std::string task_line(const StoredTask& t) {
  std::string took = t.completed && t.started
                         ? fmt::format("{:.3f} ms", double(t.completed - t.started) * 1e-6)
                         : std::string("-");
  return fmt::format("run {} msg {} {}({} item{}) {}{} engine {} on {} pid {}, {}{}{}", t.run,
                     t.msg_id, t.function, t.items, t.items == 1 ? "" : "s",
                     mpiply::to_string(t.status), t.reused ? " (reused)" : "", t.engine,
                     t.hostname.empty() ? "-" : t.hostname, t.pid, took,
                     t.error.empty() ? "" : ": ", t.error);
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description opts("options");
  std::string path;
  long max_failed = 20;
  std::int64_t run = 0;
  opts.add_options()("help,h", "print this text")(
      "db", po::value(&path), "the task database (also the first positional argument)")(
      "failed", po::value(&max_failed)->default_value(20),
      "list at most this many failed tasks (0: all)")(
      "run", po::value(&run)->default_value(0), "only this run (0: all)")(
      "tasks", "list every task (of --run, or of all runs)");
  po::positional_options_description pos;
  pos.add("db", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "dbinfo: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help") || path.empty()) {
    fmt::print(
        "usage: dbinfo DATABASE [--failed N] [--run R] [--tasks]\n\n"
        "Prints the runs recorded in an mpiply task database (MPIPLY_DB), the number of tasks\n"
        "by status, and the failed tasks with their errors.\n\n");
    std::cout << opts;
    return path.empty() && !vm.count("help") ? 2 : 0;
  }

  try {
    auto db = TaskDbReader::open(path);
    fmt::print("database {}\nwritten by {}\n", path, db->program());
    auto runs = db->runs();
    for (const RunInfo& r : runs)
      if (run == 0 || r.id == run) fmt::print("{}\n", run_line(r));

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
  } catch (const mpiply::Error& e) {
    fmt::print(stderr, "dbinfo: {}\n", e.what());
    return 1;
  }
}
