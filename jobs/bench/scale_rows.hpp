#pragma once
// bench --part scale: what one rank 0 costs as the ranks grow (issue 23, "Many engines"). Run at
// N ranks, it takes on rank 0: when the first result of a no-op came back (run_scale.py turns
// that into start-up from the launch), how long MPI_Init, mpiply::run's start-up and each of its
// phases took, and rank 0's CPU time per result of chunksize-1 maps of no-ops with every engine
// busy. Every key ends in _<N>, so the files of several rank counts merge into one table
// (tools/bench-table.py).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <mpiply/mpiply.hpp>

#include "baselines.hpp"
#include "common.hpp"
#include "part_rows.hpp"
#include "report.hpp"
#include "tasks.hpp"
#include "runtime/startup.hpp"  // mpiply's own phase times (src/runtime, not installed)

namespace bench {

// Rank 0's wall-clock readings around mpiply::run, taken by main.
struct ScaleClocks {
  double mpi_init_s = 0;                 // MPI_Init (mpiply::Environment) on rank 0
  SteadyClock::time_point before_run{};  // just before mpiply::run
};

inline double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Rank 0's part inside mpiply::run: prints its figures and puts their keys in `out`.
inline void scale_part(mpiply::Client& rc, const Config& cfg, int size, const ScaleClocks& clk,
                       nlohmann::ordered_json& out) {
  double run_s = seconds_since(clk.before_run);  // mpiply::run's start-up, up to client_main
  auto t0 = SteadyClock::now();
  rc[0].apply_async(noop).get();
  double first_apply_s = seconds_since(t0);
  double first_result_unix_s = unix_seconds_now();
  mpiply::detail::StartupPhases ph = mpiply::detail::last_startup_phases();

  // Every engine busy: with hwm tasks outstanding on each, all N - 1 hold work throughout. A
  // warm-up map first gives every engine a few tasks, so the timed maps see no first-task costs.
  auto all = rc.load_balanced_view();
  all.map_async(noop_item, iota_items(std::max(1000L, 8L * (size - 1))), {.chunksize = 1}).get();
  rc.purge_everything();
  auto items = iota_items(cfg.quick ? 2000 : 100000);
  std::vector<double> cpu, wall;
  for (int r = 0; r < cfg.map1_repeats; ++r) {
    PerResult pr = rank0_per_result(rc, all, items);
    cpu.push_back(pr.cpu_us);
    wall.push_back(pr.wall_us);
  }
  double cpu_us = median(cpu), wall_us = median(wall);

  fmt::print("mpiply bench, scale: {} ranks ({} engine{}){}\n", size, size - 1,
             size == 2 ? "" : "s", cfg.quick ? ", quick (small sizes: the figures only show the job works)" : "");
  fmt::print("  rank-0 CPU per result, every engine busy: {:.3f} us (wall {:.3f} us per result; "
             "median of {} maps of {} no-ops at chunksize 1)\n",
             cpu_us, wall_us, cfg.map1_repeats, items.size());
  fmt::print("  start-up on rank 0: MPI_Init {:.3f} s; mpiply::run to client_main {:.3f} s, of "
             "which registry agreement {:.4f} s, clock alignment {:.4f} s ({} engine{} "
             "measured: one per kernel other than rank 0's), engine communicator {:.4f} s; "
             "first apply {:.4f} s\n",
             clk.mpi_init_s, run_s, ph.registry_s, ph.clock_align_s, ph.clock_engines_measured,
             ph.clock_engines_measured == 1 ? "" : "s", ph.engine_comm_s, first_apply_s);
  fmt::print("  start-up from the launch: jobs/bench/run_scale.py (it also times a bare "
             "MPI_Init/MPI_Finalize program at {} ranks)\n", size);
  auto key = [size](const char* name) { return fmt::format("{}_{}", name, size); };
  nlohmann::ordered_json& j = out;
  j[key("rank0_cpu_per_result_us")] = cpu_us;
  j[key("rank0_wall_per_result_us")] = wall_us;
  j[key("scale_items")] = static_cast<long>(items.size());
  j[key("startup_mpi_init_s")] = clk.mpi_init_s;
  j[key("startup_run_s")] = run_s;
  j[key("startup_registry_s")] = ph.registry_s;
  j[key("startup_clock_align_s")] = ph.clock_align_s;
  j[key("startup_clock_engines_measured")] = ph.clock_engines_measured;
  j[key("startup_engine_comm_s")] = ph.engine_comm_s;
  j[key("startup_first_apply_s")] = first_apply_s;
  j["first_result_unix_s"] = first_result_unix_s;  // run_scale.py replaces it by startup_s_<N>
}

// The plain-MPI side of rank 0's CPU per result, after mpiply::run, every rank taking part: the
// blocking farm at window `hwm` (baselines.hpp) over as many tasks as the maps had items, rank
// 0's CPU time (every thread) per task, median of as many runs. Then rank 0 writes the file.
inline void scale_farm_and_write(int rank, int size, int hwm, const Config& cfg,
                                 nlohmann::ordered_json& out) {
  long tasks = cfg.quick ? 2000 : 100000;
  farm_blocking_once(rank, size, hwm, std::min(tasks, 10000L));  // warm-up
  std::vector<double> cpu, wall;
  for (int r = 0; r < cfg.map1_repeats; ++r) {
    double c0 = process_cpu_seconds();
    double rate = farm_blocking_once(rank, size, hwm, tasks);
    cpu.push_back((process_cpu_seconds() - c0) / double(tasks) * 1e6);
    wall.push_back(rank == 0 ? 1e6 / rate : 0);
  }
  if (rank != 0) return;
  double farm_us = median(cpu), farm_wall_us = median(wall);
  fmt::print("  plain-MPI farm (blocking MPI_Send, window {}, MPI_Recv from any engine): rank-0 "
             "CPU per task {:.3f} us (wall {:.3f} us per task; median of {} runs of {} tasks)\n",
             hwm, farm_us, farm_wall_us, cfg.map1_repeats, tasks);
  out[fmt::format("farm_rank0_cpu_per_task_us_{}", size)] = farm_us;
  out[fmt::format("farm_wall_per_task_us_{}", size)] = farm_wall_us;
  if (!cfg.json.empty()) write_json_file(cfg.json, out);
}

}  // namespace bench
