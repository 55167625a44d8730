// bench: mpiply next to the MPI floor. One run measures, on the ranks it is launched
// with, raw-MPI baselines on MPI_COMM_WORLD (before mpiply::run) and the matching mpiply figures
// (inside mpiply::run), then rank 0 prints a table of figures, ratios and targets.
//
//   mpirun -n 2 ./build/jobs/bench                   (one client, one engine: the targets' setting)
//   mpirun -n 2 ./build/jobs/bench --json out.json   (also writes the figures as JSON)
//   mpirun -n 3 ./build/jobs/bench --quick           (small sizes: checks the job works, for CI)
//
// Targets are judged on 2 ranks; with more ranks the table still says whether they hold. The
// exit code never depends on the figures (CI machines are shared and noisy).
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <mpi.h>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

#include "bench/baselines.hpp"
#include "common/before_mpi.hpp"
#include "bench/common.hpp"
#include "bench/data_rows.hpp"
#include "bench/keep_rows.hpp"
#include "bench/db_row.hpp"
#include "bench/mpi_yield.hpp"
#include "bench/mpiply_figures.hpp"
#include "bench/part_rows.hpp"
#include "bench/report.hpp"
#include "bench/scale_rows.hpp"
#include "bench/tasks.hpp"
#include "support/trace_points.hpp"

namespace {

using namespace bench;

constexpr const char* kAbout =
    "usage: mpirun -n N bench [--quick] [--json FILE]   (N >= 2; targets are set for N = 2)\n\n"
    "Measures mpiply next to raw MPI in one run: ping-pong vs apply round trip (mean, median,\n"
    "p99), a hand-written\n"
    "task farm vs load-balanced map (chunksize 1, 64, 1024), MPI_Send vs push bandwidth (64 MiB),\n"
    "idle CPU of client and engines, wall time per task for 1e3 and 1e6 tasks, and rank 0 memory\n"
    "per task record. Rank 0 prints a table of figures, ratios and targets.\n\n";
constexpr const char* kHwmNote =
    "\nMPIPLY_HWM (default 4) sets the tasks outstanding per engine, for mpiply and the farm "
    "alike.\n";

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  namespace po = boost::program_options;
  bool quick = false, db_only = false;
  po::options_description opts("options");
  opts.add_options()
    ("quick", po::bool_switch(&quick), "small sizes (CI: checks the job works; timings are not judged)")
    ("db-only", po::bool_switch(&db_only), "only the task database row (docs/database.md)")
    ("json", po::value(&cfg.json)->value_name("FILE"), "also write the figures to FILE as JSON")
    ("part", po::value(&cfg.part)->value_name("WHICH"),
     "all (default); cpu: only rank 0's CPU per result (run it at 2, 17, 65 ranks); "
     "cost: only the per-task cost and memory rows; data: only pull, scatter, gather and the "
     "map payload against MPI and Boost.MPI; idle: only the idle CPU rows; capture: only the "
     "output capture rows; map: only the tight farm and map chunksize 1; apply: only the ping-pong "
     "and the apply round trip; team: a one-engine apply against team tasks of 2 and 4 engines "
     "(docs/resources.md); startup: one apply, then --json FILE gets the wall-clock time "
     "its result came back (first_result_unix_s: jobs/bench/peers/run_peers.py times start-up "
     "from the launch to it, as for the peers); keep: only rank 0's memory over a long stream "
     "of tasks (hub cap, purging); scale: rank 0's CPU per result with every engine busy, "
     "MPI_Init and each mpiply start-up phase on rank 0, and the first result's wall-clock "
     "time, keys ending in _N (run it through jobs/bench/run_scale.py, which adds start-up "
     "from the launch and a bare MPI_Init/MPI_Finalize program's)")
    ("cost-items", po::value(&cfg.cost_large_items)->value_name("N"),
     "tasks in the large per-task cost map (default 1e6; 1e7 takes ~2 GB on rank 0)")
    ("keep-tasks", po::value(&cfg.keep_tasks)->value_name("N"),
     "tasks in the keep rows' stream (default 2e6; docs/benchmarks.md shows 1e7)")
    ("help,h", "this text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    if (jobs::first_rank()) std::fprintf(stderr, "bench: %s; try --help\n", e.what());
    return jobs::exit_all_ranks(2);
  }
  if (vm.count("help")) {
    if (jobs::first_rank()) std::cout << kAbout << opts << kHwmNote;
    return 0;
  }
  if (quick) cfg.make_quick();
  if (vm.count("cost-items")) cfg.cost_large_items = vm["cost-items"].as<long>();
  if (vm.count("keep-tasks")) cfg.keep_tasks = vm["keep-tasks"].as<long>();
  if (cfg.part != "all" && cfg.part != "cpu" && cfg.part != "cost" && cfg.part != "data" &&
      cfg.part != "idle" && cfg.part != "capture" && cfg.part != "map" && cfg.part != "apply" &&
      cfg.part != "startup" && cfg.part != "keep" && cfg.part != "scale" && cfg.part != "team") {
    if (jobs::first_rank())
      std::fprintf(stderr,
                   "bench: --part must be all, cpu, cost, data, idle, capture, map, apply, "
                   "startup, keep, scale or team, not '%s'\n",
                   cfg.part.c_str());
    return jobs::exit_all_ranks(2);
  }

  ScaleClocks scale_clocks;
  auto t_init = SteadyClock::now();
  mpiply::Environment env(argc, argv);
  scale_clocks.mpi_init_s = seconds_since(t_init);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    std::fprintf(stderr,
                 "bench: needs at least 2 ranks (rank 0 is the client, rank 1 engine 0); run it "
                 "as mpirun -n 2 bench\n");
    return 2;
  }
  if (db_only) {
    if (rank == 0 && !cfg.json.empty()) std::remove(cfg.json.c_str());  // only this row's keys
    db_row(argc, argv, cfg, timed_map);
    return 0;
  }
  if (cfg.part == "capture") return capture_rows(argc, argv, cfg);
  if (cfg.part == "keep") return keep_rows(argc, argv, cfg);
  int hwm = hwm_from_env();

  // Baselines, every rank taking part.
  Baselines b;
  // Only the full run and the data rows move it: the start-up and scale parts must not spend
  // their start-up filling 64 MiB on every rank.
  bool moves_data = cfg.part == "all" || cfg.part == "data";
  std::vector<double> data(moves_data ? cfg.bw_bytes / sizeof(double) : 0);
  if (rank == 0)
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = double(i);  // touched: warm
  else
    std::vector<double>().swap(data);
  // Oversubscribed, Open MPI yields on every idle poll: each baseline also runs without that, and
  // the better figure counts (bench/mpi_yield.hpp); the note says what each setting gave.
  std::string yield_note;
  auto note = [&](const char* what, const YieldVariants<double>& v) {
    if (v.ran_off)
      yield_note += fmt::format("  {}: yield on {:.4g}, off {:.4g}\n", what, v.as_is, v.off);
  };
  if (cfg.part == "all" || cfg.part == "apply") {
    auto round = both_yield_settings([&] { return pingpong(rank, cfg); }, rank <= 1);
    auto loop = both_yield_settings([&] { return pingpong_loop(rank, cfg); }, rank <= 1);
    RoundTrip rounds = round.best(true);  // median and p99 from the same variant
    b.pingpong = rounds;
    b.pingpong.mean = loop.best(true);
    note("pingpong_rtt_median_us", YieldVariants<double>{round.as_is.median, round.off.median,
                                                         round.ran_off});
    note("pingpong_rtt_mean_us", loop);
    auto pattern = both_yield_settings([&] { return pattern_loop(rank, cfg); }, rank <= 1);
    b.pattern_rtt_mean_us = pattern.best(true);
    note("pattern_rtt_mean_us", pattern);
  }
  if (cfg.part == "all" || cfg.part == "map") {
    auto farm = [&](const char* what, auto once) {
      auto v = both_yield_settings([&] { return farm_median(cfg.farm_repeats, cfg.farm_tasks, once); });
      note(what, v);
      return v.best(false);
    };
    auto blocking = [&](const char* what, int w) {
      return farm(what, [&](long n) { return farm_blocking_once(rank, size, w, n); });
    };
    b.farm_send_w1_tasks_per_s = blocking("farm_send_w1_tasks_per_s", 1);
    b.farm_send_w4_tasks_per_s = blocking("farm_send_w4_tasks_per_s", 4);
    b.farm_send_w16_tasks_per_s = blocking("farm_send_w16_tasks_per_s", 16);
    b.farm_send_w32_tasks_per_s = blocking("farm_send_w32_tasks_per_s", kDeepWindow);
    double at_hwm = hwm == 1 ? b.farm_send_w1_tasks_per_s
                    : hwm == 4 ? b.farm_send_w4_tasks_per_s
                    : hwm == 16 ? b.farm_send_w16_tasks_per_s
                                : blocking("farm_send_at_hwm_tasks_per_s", hwm);
    b.farm_isend_tasks_per_s =
        farm("farm_isend_tasks_per_s", [&](long n) { return farm_once(rank, size, hwm, n); });
    // The tight farm. Without MPIPLY_HWM mpiply deepens the window of an engine running short
    // tasks up to kDeepWindow, so the farm at every window it may use counts too.
    b.farm_tasks_per_s = std::max(at_hwm, b.farm_isend_tasks_per_s);
    if (!hwm_set_in_env())
      b.farm_tasks_per_s = std::max({b.farm_tasks_per_s, b.farm_send_w16_tasks_per_s,
                                     b.farm_send_w32_tasks_per_s});
  }
  if (rank == 0 && !yield_note.empty())
    fmt::print("Open MPI yields when idle here (oversubscribed); baselines run both ways, the "
               "better counts:\n{}", yield_note);
  if (cfg.part == "all") {
    b.mpi_bw_gbs = mpi_bandwidth(rank, cfg, data);
    b.mpi_bw_huge_gbs = mpi_bandwidth(rank, cfg, data, true);
  }
  DataFigures d;
  if (cfg.part == "all" || cfg.part == "data") data_baselines(rank, size, cfg, data, d);

  scale_clocks.before_run = SteadyClock::now();
  nlohmann::ordered_json scale_json;  // rank 0's scale keys, written after the farm
  int code = mpiply::run(argc, argv, [&](mpiply::Client& rc) -> int {
    if (rc.hwm() != hwm)
      fmt::print(stderr, "bench: mpiply uses hwm {} but the farm used {}\n", rc.hwm(), hwm);
    if (cfg.part == "cpu") {
      cpu_per_result(rc, cfg, size);
      return 0;
    }
    if (cfg.part == "scale") {
      scale_part(rc, cfg, size, scale_clocks, scale_json);
      return 0;
    }
    if (cfg.part == "startup") {
      rc[0].apply_async(noop).get();
      double now = std::chrono::duration<double>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
      if (!cfg.json.empty()) write_json_file(cfg.json, {{"first_result_unix_s", now}});
      return 0;
    }
    if (cfg.part == "team") {
      team_rows(rc, cfg);
      return 0;
    }
    if (cfg.part == "apply") {
      int held = 0, judged = 0;
      auto rows =
          round_trip_rows(b.pingpong, b.pattern_rtt_mean_us, apply_round_trip(rc[0], cfg));
      print_rows(rows, held, judged);
      if (!cfg.json.empty()) write_json_file(cfg.json, rows_json(rows));
      return 0;
    }
    if (cfg.part == "map") {
      auto items = iota_items(cfg.map1_items);
      timed_map(rc, std::vector<std::int64_t>(items.begin(), items.begin() + 1000), 1);  // warm-up
      std::vector<double> rates;
      MPIPLY_TRACE(loop_begin);  // what tools/trace-points.sh map reads
      for (int r = 0; r < cfg.map1_repeats; ++r) {
        MPIPLY_TRACE(call);
        rates.push_back(double(items.size()) / timed_map(rc, items, 1));
        MPIPLY_TRACE(got);
      }
      MPIPLY_TRACE(loop_end);
      double m = median(rates);
      fmt::print("{} ranks: tight farm {} tasks/s, map chunksize 1 {} items/s, ratio {:.2f}\n",
                 size, num(b.farm_tasks_per_s), num(m), m / b.farm_tasks_per_s);
      return 0;
    }
    if (cfg.part == "cost") {
      Figures f;
      cost_rows(rc, cfg, f);
      fmt::print("task_cost_us_1e3 {:.3f}  task_cost_us({}) {:.3f}  ratio {:.3f}  "
                  "record_bytes_per_task {:.1f}  kept_result_bytes_per_task {:.1f}\n",
                  f.task_cost_us_1e3, f.cost_large_items, f.task_cost_us_1e6,
                  f.task_cost_us_1e6 / f.task_cost_us_1e3, f.record_bytes_per_task,
                  f.kept_result_bytes_per_task);
      return 0;
    }
    if (cfg.part == "data") {
      data_figures(rc, cfg, data, d);
      data_report(cfg, size, d);
      return 0;
    }
    if (cfg.part == "idle") {
      Figures f;
      timed_map(rc, iota_items(10000), 1);  // every rank busy first, as in the full run
      idle_rows(rc, cfg, f);
      fmt::print("idle over {:g} s: busiest engine {:.3f} % of a core, client {:.3f} %\n",
                 cfg.idle_seconds, f.idle_engine_cpu_pct, f.idle_client_cpu_pct);
      return 0;
    }
    Figures f = measure_mpiply(rc, cfg, data);
    data_figures(rc, cfg, data, d);
    report(cfg, size, rc.hwm(), b, f, d);
    purge_row(rc, cfg.quick ? 1000 : 10000);
    return 0;
  });
  if (code == 0 && cfg.part == "scale") scale_farm_and_write(rank, size, hwm, cfg, scale_json);
  if (code != 0 || cfg.part != "all") return code;
  db_row(argc, argv, cfg, timed_map);
  if (int c = capture_rows(argc, argv, cfg); c != 0) return c;
  return keep_rows(argc, argv, cfg);
}
