// resume: a map that survives being interrupted. With a task database (--db, i.e. MPIPLY_DB),
// every finished task is recorded as it arrives; run the same command again after a crash, a
// kill or a drain (SIGUSR1) and the tasks that already succeeded are filled from the database
// instead of running again. It prints progress, then the sum of f(x) over 0..n-1 and whether it
// is the known answer.
//
//   mpirun -n 4 ./build/jobs/resume --db /tmp/resume.db             (first run; interrupt it)
//   mpirun -n 4 ./build/jobs/resume --db /tmp/resume.db             (again: reuses what finished)
//   mpirun -n 4 ./build/jobs/resume --db /tmp/resume.db --crash-at 900   (the task of item 900
//                                   segfaults its engine, without isolation: the job dies)
//   mpirun -n 4 ./build/jobs/resume --db /tmp/resume.db --inspect  (first prints what the earlier
//                                   runs left in the database, through the hub's queries)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

#include "common/program_name.hpp"

namespace {
// Set from the command line on every rank (all ranks parse the same one): the item whose task
// crashes its engine, or -1.
long g_crash_at = -1;
long g_task_us = 2000;
}  // namespace

// The task: a little work, then a value whose sum over 0..n-1 is known in closed form.
std::int64_t cube_ish(std::int64_t x) {
  if (x == g_crash_at) {
    std::fprintf(stderr, "resume: item %lld crashes its engine on purpose (--crash-at)\n",
                 static_cast<long long>(x));
    std::fflush(stderr);
    volatile int* p = nullptr;
    *p = 1;  // NOLINT: the point of --crash-at
  }
  std::this_thread::sleep_for(std::chrono::microseconds(g_task_us));
  return x * x + 1;
}
MPIPLY_REGISTER(cube_ish);

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  jobs::set_tool_name(argv[0], "resume");
  po::options_description opts(fmt::format(
      "usage: mpirun -n N {} [--db FILE] [--n ITEMS] [--crash-at I] [--task-us US]\n\n"
      "Maps cube_ish (x*x + 1, after US microseconds of sleep) over 0..ITEMS-1, chunksize 1,\n"
      "in blocks of 100 items, prints progress after each and checks the sum against the\n"
      "closed form. With --db (or MPIPLY_DB) a rerun reuses the tasks an interrupted run\n"
      "finished",
      jobs::tool_name()));
  std::string db;
  long n = 2000;
  opts.add_options()("help", "this text")("db", po::value(&db), "task database file")(
      "n", po::value(&n)->default_value(2000), "items")(
      "crash-at", po::value(&g_crash_at)->default_value(-1), "item whose task segfaults")(
      "task-us", po::value(&g_task_us)->default_value(2000), "each task's sleep, microseconds")(
      "inspect", "first print what earlier runs left in the database (db_query, get_result)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}; try --help\n", jobs::tool_name(), e.what());
    return 64;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  mpiply::RunOptions ro;
  if (!db.empty()) ro.db = db;
  bool inspect = vm.count("inspect") > 0;
  return mpiply::run(argc, argv, ro, [&](mpiply::Client& rc) {
    if (inspect && rc.db_run() > 0) {
      // What the earlier runs left, a crashed one included: the hub reads them from the file.
      for (const mpiply::DbRun& r : rc.db_runs()) {
        if (r.current) continue;
        using mpiply::field;
        auto ok = rc.db_query(field("run") == r.id && field("status") == "ok");
        auto failed = rc.db_query(field("run") == r.id && field("status") != "ok", {"error"});
        fmt::print("resume: earlier run {} {}; {} ok and {} failed tasks recorded\n", r.id,
                   r.finished ? "closed" : "did not close", ok.size(), failed.size());
        if (!failed.empty()) {
          fmt::print("resume: first failure of run {}: msg {}: {}\n", r.id, failed[0].msg_id,
                     failed[0].error.value_or(""));
          // Its values raise the recorded error, as the live result's did.
          try {
            rc.get_result(mpiply::RecordId{r.id, failed[0].msg_id}).value<std::int64_t>();
          } catch (const mpiply::RemoteError& e) {
            fmt::print("resume: its value raises {}\n", e.ename());
          }
        }
        for (const auto& m : ok) {
          if (m.reused) continue;  // read one the run computed itself
          mpiply::RecordId id{m.run, m.msg_id};
          std::int64_t v = rc.get_result(id).value<std::int64_t>();
          auto x = static_cast<std::int64_t>(std::llround(std::sqrt(double(v - 1))));
          fmt::print("resume: record {} reads back {} = x*x + 1 for x = {}: {}\n",
                     mpiply::to_string(id), v, x, x * x + 1 == v ? "right" : "WRONG");
          break;
        }
      }
      std::fflush(stdout);
    }
    // Blocks of 100 items, one map each, so progress shows between blocks even with one rank
    // (where a map runs inline inside its submission). Each item is one task (chunksize 1), so
    // its resume key does not depend on the blocks.
    auto v = rc.load_balanced_view();
    std::int64_t sum = 0;
    long done = 0;
    std::size_t reused = 0, tasks = 0;
    for (long b = 0; b < n; b += 100) {
      std::vector<std::int64_t> xs;
      for (long i = b; i < std::min(n, b + 100); ++i) xs.push_back(i);
      auto amr = v.map_async(cube_ish, xs, {.chunksize = 1, .ordered = false});
      for (std::int64_t y : amr) sum += y;
      done += static_cast<long>(xs.size());
      for (const auto& m : amr.metadata()) reused += m.reused ? 1 : 0;
      tasks += xs.size();
      fmt::print("resume: progress {}/{}\n", done, n);
      std::fflush(stdout);
    }
    // sum of x*x + 1 over 0..n-1 = (n-1)n(2n-1)/6 + n
    std::int64_t want = (n - 1) * n * (2 * n - 1) / 6 + n;
    fmt::print("resume: sum {} (expected {}): {}; {} of {} tasks reused\n", sum, want,
               sum == want ? "right" : "WRONG", reused, tasks);
    return sum == want ? 0 : 1;
  });
}
