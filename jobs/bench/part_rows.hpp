#pragma once
// bench: the rows that run on their own with --part (cpu, cost, idle, capture) and the hub's
// purge row; each prints or fills its figures. The full run calls them too.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "report.hpp"
#include "tasks.hpp"

namespace bench {

// A team member that does the least a team does: one barrier on its team's communicator.
inline void team_noop() { MPI_Barrier(mpiply::task_comm()); }
MPIPLY_REGISTER(team_noop);

// Dispatching a team task (docs/resources.md, Teams) against a one-engine apply, in the same
// run: the median round trip, submit to get(), of a no-op apply and of apply_team(k) of a
// member that makes one barrier on task_comm(), for k = 2 and 4 where there are that many
// engines. Each team's communicator is made on its first run (the warm-up) and reused after.
inline void team_rows(mpiply::Client& rc, const Config& cfg) {
  auto lv = rc.load_balanced_view();
  const int reps = cfg.quick ? 200 : 2000;
  auto median_us = [&](auto once) {
    for (int i = 0; i < reps / 10; ++i) once();  // warm-up
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
      auto t0 = SteadyClock::now();
      once();
      t.push_back(seconds_since(t0) * 1e6);
    }
    return median(t);
  };
  double one = median_us([&] { lv.apply(noop); });
  std::string line = fmt::format("team: one-engine apply {:.1f} us", one);
  nlohmann::ordered_json j{{"apply_round_trip_us", one}};
  for (unsigned k : {2u, 4u}) {
    if (k > rc.ids().size()) continue;
    double t = median_us([&] {
      if (lv.apply_team(k, team_noop).size() != k) throw std::runtime_error("bench: team lost");
    });
    line += fmt::format(", team of {} {:.1f} us (x{:.2f})", k, t, t / one);
    j[fmt::format("team{}_round_trip_us", k)] = t;
  }
  fmt::print("{} (median of {} round trips each)\n", line, reps);
  if (!cfg.json.empty()) write_json_file(cfg.json, j);
}

// The hub keeps every result for get_result until purged (issue 8): rank 0's memory for n
// results of 8 KiB, before and after purge_results(all).
inline void purge_row(mpiply::Client& rc, long n) {
  rc.purge_everything();
  malloc_trim(0);
  long long rss0 = rss_bytes();
  rc.load_balanced_view().map_async(kib8, std::vector<int>(static_cast<std::size_t>(n), 1024)).wait();
  malloc_trim(0);
  long long rss1 = rss_bytes();
  double held1 = double(rc.results_bytes()) / (1 << 20);
  rc.purge_results(mpiply::all);
  long long rss2 = rss_bytes();
  fmt::print("hub purge: {} results of 8 KiB: kept {:.1f} MiB -> {:.2f} MiB after "
             "purge_results(all); rank-0 RSS +{:.1f} MiB -> +{:.1f} MiB\n",
             n, held1, double(rc.results_bytes()) / (1 << 20), double(rss1 - rss0) / (1 << 20),
             double(rss2 - rss0) / (1 << 20));
}

// Output capture (docs/output.md) is fixed for a whole mpiply::run, so its cost is measured in
// runs of their own, back to back in this job: map chunksize 1 of a no-op that prints nothing,
// capture off, on, and streaming (MPIPLY_STREAM), in turn, twice each; the median of each.
inline int capture_rows(int argc, char** argv, const Config& cfg) {
  auto items = iota_items(cfg.map1_items);
  std::vector<double> rates[3];  // off, on, streaming
  for (int round = 0; round < 6; ++round) {
    int mode = round % 3;
    mpiply::RunOptions o;
    o.capture_output = mode >= 1;
    o.stream_output = mode == 2;
    int code = mpiply::run(argc, argv, o, [&](mpiply::Client& rc) -> int {
      timed_map(rc, std::vector<std::int64_t>(items.begin(), items.begin() + 1000), 1);
      for (int r = 0; r < cfg.map1_repeats; ++r)
        rates[mode].push_back(double(items.size()) / timed_map(rc, items, 1));
      return 0;
    });
    if (code != 0) return code;
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    double a = median(rates[0]), b = median(rates[1]), c = median(rates[2]);
    fmt::print("capture: map chunksize 1 of {} no-op items (printing nothing): off {} items/s, "
               "on {} items/s, on / off = {:.3f}; streaming {} items/s, streaming / off = {:.3f}\n",
               items.size(), num(a), num(b), b / a, num(c), c / a);
  }
  return 0;
}

// Wall time per task for 10^3 tasks (mean over repeats) and for one large run, during which
// rank 0's resident memory grows by the task records the client keeps and the results the hub
// keeps for get_result (issue 8); the kept results' own bytes are read from the client.
inline void cost_rows(mpiply::Client& rc, const Config& cfg, Figures& f) {
  {
    // The mean over every repeat (total time over total tasks), as the large run's figure is
    // the mean over its one map: the ratio of the two compares like with like.
    auto small = iota_items(1000);
    double total = 0;
    for (int r = 0; r < cfg.cost_small_repeats; ++r) total += timed_map(rc, small, 1);
    f.task_cost_us_1e3 = total / double(small.size() * std::size_t(cfg.cost_small_repeats)) * 1e6;
  }
  {
    auto items = iota_items(cfg.cost_large_items);
    rc.purge_everything();
    malloc_trim(0);
    long long rss0 = rss_bytes();
    auto kept0 = rc.results_bytes();
    double dt = timed_map(rc, items, 1);  // the AsyncMapResult and its values are gone after this
    malloc_trim(0);
    long long rss1 = rss_bytes();
    f.cost_large_items = cfg.cost_large_items;
    f.task_cost_us_1e6 = dt / double(items.size()) * 1e6;
    f.record_bytes_per_task = double(rss1 - rss0) / double(items.size());
    f.kept_result_bytes_per_task = double(rc.results_bytes() - kept0) / double(items.size());
    rc.purge_everything();
  }
}

// Rank 0's CPU time (all its threads: CLOCK_PROCESS_CPUTIME_ID) and wall time per result, in
// microseconds, over one chunksize-1 map of noop_item on `view`; the hub's results are purged
// after it, so runs do not add up.
struct PerResult {
  double cpu_us = 0, wall_us = 0;
};

inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

template <class View>
PerResult rank0_per_result(mpiply::Client& rc, View& view, const std::vector<std::int64_t>& items) {
  double c0 = process_cpu_seconds();
  auto t0 = SteadyClock::now();
  auto out = view.map_async(noop_item, items, {.chunksize = 1}).get();
  double wall = seconds_since(t0);
  double c = process_cpu_seconds() - c0;
  if (out.size() != items.size() || (!out.empty() && out.back() != items.back()))
    throw std::runtime_error("bench: cpu map went wrong");
  rc.purge_everything();
  return {c / double(items.size()) * 1e6, wall / double(items.size()) * 1e6};
}

// Rank 0's CPU per result over a chunksize-1 map that only engine 0 runs while every other
// engine idles, and over one spread on all engines. Its cost per result should not grow with
// the number of engines (issue 12).
inline void cpu_per_result(mpiply::Client& rc, const Config& cfg, int size) {
  auto items = iota_items(cfg.quick ? 2000 : 100000);
  auto one = rc.load_balanced_view().with_flags({.targets = std::vector<int>{0}});
  one.map_async(noop_item, std::vector<std::int64_t>(items.begin(), items.begin() + 1000)).get();
  auto [c1, w1] = rank0_per_result(rc, one, items);
  auto all = rc.load_balanced_view();
  auto [ca, wa] = rank0_per_result(rc, all, items);
  fmt::print("cpu per result: {} engines, {} tasks: engine 0 only: rank-0 CPU {:.3f} us, wall "
             "{:.3f} us; all engines: rank-0 CPU {:.3f} us, wall {:.3f} us\n",
             size - 1, items.size(), c1, w1, ca, wa);
  if (!cfg.json.empty()) {
    nlohmann::ordered_json j;
    j["engines"] = size - 1;
    j["rank0_cpu_us_per_result_one_busy"] = c1;
    j["rank0_wall_us_per_result_one_busy"] = w1;
    j["rank0_cpu_us_per_result_all_busy"] = ca;
    j["rank0_wall_us_per_result_all_busy"] = wa;
    write_json_file(cfg.json, j);
  }
}

// Idle CPU: every rank has just been busy; now the client does nothing for idle_seconds.
inline void idle_rows(mpiply::Client& rc, const Config& cfg, Figures& f) {
  auto all = rc[mpiply::all];
  {
    auto max_of = [](const std::vector<double>& v) {
      return *std::max_element(v.begin(), v.end());
    };
    std::vector<double> eng0 = all.apply_sync(engine_cpu_seconds);
    double c0 = cpu_seconds_self();
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg.idle_seconds));
    double c1 = cpu_seconds_self();
    std::vector<double> eng1 = all.apply_sync(engine_cpu_seconds);
    std::vector<double> d(eng0.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = eng1[i] - eng0[i];
    // The busiest engine; the engine's delta also holds the two small tasks that read it.
    f.idle_engine_cpu_pct = max_of(d) / cfg.idle_seconds * 100.0;
    f.idle_client_cpu_pct = (c1 - c0) / cfg.idle_seconds * 100.0;
  }
}

}  // namespace bench
