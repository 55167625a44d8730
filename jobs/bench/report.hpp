#pragma once
// bench: the table of figures, baselines, ratios and targets, and the JSON file.
#include <cmath>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common.hpp"

namespace bench {

// ---- report ------------------------------------------------------------------------------------
// One row of the table and of the JSON file. A row with a baseline also writes its ratio, under
// ratio_key (by default "ratio_<metric>_to_baseline"). A baseline is always the same statistic
// (mean, median, p99, best) of the same kind of memory as the figure it divides.
struct Row {
  std::string metric;
  double value = 0;
  std::optional<double> baseline;  // the figure the ratio is taken against
  std::string target;              // empty: no target
  std::optional<bool> holds;
  std::string ratio_key;           // empty: "ratio_<metric>_to_baseline"

  std::string ratio_name() const {
    return ratio_key.empty() ? "ratio_" + metric + "_to_baseline" : ratio_key;
  }
};

inline std::string num(double v) {
  double a = std::abs(v);
  if (a >= 1e5) return fmt::format("{:.3g}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

// Writes j to path (pretty, two-space indent); throws naming the path if it cannot.
inline void write_json_file(const std::string& path, const nlohmann::ordered_json& j) {
  std::ofstream f(path, std::ios::trunc);
  f << j.dump(2) << '\n';
  f.close();
  if (!f) throw std::runtime_error("bench: cannot write " + path);
}

// The data rows (DataFigures), each against its MPI or Boost.MPI baseline.
inline std::vector<Row> data_rows(const DataFigures& d) {
  return {
      {"mpi_recv_gbs", d.mpi_recv_gbs, {}, "", {}, ""},
      {"pull_into_gbs", d.pull_into_gbs, d.mpi_recv_gbs, ">= 0.8 x MPI",
       d.pull_into_gbs >= 0.8 * d.mpi_recv_gbs, ""},
      {"mpi_recv_4k_gbs", d.mpi_recv_4k_gbs, {}, "", {}, ""},  // context: 4 KiB pages
      {"mpi_recv_fresh_gbs", d.mpi_recv_fresh_gbs, {}, "", {}, ""},
      // pull returns a new vector: context, against MPI into fresh memory
      {"pull_gbs", d.pull_gbs, d.mpi_recv_fresh_gbs, "", {}, ""},
      // Scatter and gather against the better of the collective and the hand-posted version.
      {"mpi_scatterv_gbs", d.mpi_scatterv_gbs, {}, "", {}, ""},
      {"mpi_scatter_isend_gbs", d.mpi_scatter_isend_gbs, {}, "", {}, ""},
      {"scatter_gbs", d.scatter_gbs, d.mpi_scatter_best_gbs(), ">= 0.8 x MPI",
       d.scatter_gbs >= 0.8 * d.mpi_scatter_best_gbs(), ""},
      {"mpi_gatherv_gbs", d.mpi_gatherv_gbs, {}, "", {}, ""},
      {"mpi_gather_irecv_gbs", d.mpi_gather_irecv_gbs, {}, "", {}, ""},
      {"gather_into_gbs", d.gather_into_gbs, d.mpi_gather_best_gbs(), ">= 0.8 x MPI",
       d.gather_into_gbs >= 0.8 * d.mpi_gather_best_gbs(), ""},
      // gather returns a new vector: context, against MPI gathering into fresh memory
      {"mpi_gather_fresh_gbs", d.mpi_gather_fresh_gbs, {}, "", {}, ""},
      {"gather_gbs", d.gather_gbs, d.mpi_gather_fresh_gbs, "", {}, ""},
      {"boostmpi_send_gbs", d.boostmpi_send_gbs, {}, "", {}, ""},
      {"payload_push_gbs", d.payload_push_gbs, d.boostmpi_send_gbs, ">= 1 x Boost.MPI",
       d.payload_push_gbs >= d.boostmpi_send_gbs, ""},
      {"boostmpi_return_gbs", d.boostmpi_return_gbs, {}, "", {}, ""},
      {"payload_pull_gbs", d.payload_pull_gbs, d.boostmpi_return_gbs, ">= 1 x Boost.MPI",
       d.payload_pull_gbs >= d.boostmpi_return_gbs, ""},
  };
}

inline void print_rows(const std::vector<Row>& rows, int& held, int& judged) {
  for (const auto& r : rows) {
    std::string base = r.baseline ? num(*r.baseline) : "-";
    std::string ratio = r.baseline ? fmt::format("{:.3f}", r.value / *r.baseline) : "-";
    std::string holds = r.holds ? (*r.holds ? "yes" : "NO") : "";
    if (r.holds) {
      ++judged;
      held += *r.holds ? 1 : 0;
    }
    fmt::print("{:<26} {:>10} {:>10} {:>8}  {:<17} {}\n", r.metric, num(r.value), base, ratio,
               r.target.empty() ? "-" : r.target, holds);
  }
}

// Every row's figure, then every ratio, as JSON numbers. A figure that is not finite (a ratio
// over a zero baseline, a rate over no time) is null: JSON has no inf or nan, and a reader must
// not mistake it for a measurement.
inline nlohmann::ordered_json rows_json(const std::vector<Row>& rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();  // keys in row order
  auto add = [&out](const std::string& key, double v) {
    out[key] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
  };
  for (const auto& r : rows) add(r.metric, r.value);
  for (const auto& r : rows)
    if (r.baseline) add(r.ratio_name(), r.value / *r.baseline);
  return out;
}

// The data rows alone (bench --part data).
inline void data_report(const Config& cfg, int size, const DataFigures& d) {
  fmt::print("mpiply bench, data: {} ranks, {:.0f} MiB (map payload: 256 vectors), best of {}\n",
             size, d.bytes / (1 << 20), cfg.bw_repeats);
  int held = 0, judged = 0;
  print_rows(data_rows(d), held, judged);
  if (!cfg.json.empty()) write_json_file(cfg.json, rows_json(data_rows(d)));
}

// The apply round trip against the ping-pong, each statistic against the same one (RoundTrip);
// pattern: pattern_loop's mean, mpiply's messaging alone, against the ping-pong's mean.
inline std::vector<Row> round_trip_rows(const RoundTrip& pp, double pattern,
                                        const RoundTrip& ap) {
  return {
      {"pingpong_rtt_mean_us", pp.mean, {}, "", {}, ""},
      {"pingpong_rtt_median_us", pp.median, {}, "", {}, ""},
      {"pingpong_rtt_p99_us", pp.p99, {}, "", {}, ""},
      {"pingpong_rtt_p999_us", pp.p999, {}, "", {}, ""},
      {"pingpong_rtt_max_us", pp.max, {}, "", {}, ""},
      {"pingpong_rtt_stall_share", pp.stall_share, {}, "", {}, ""},
      {"pattern_rtt_mean_us", pattern, pp.mean, "", {}, "ratio_pattern_rtt_mean_to_pingpong_mean"},
      {"apply_rtt_mean_us", ap.mean, pp.mean, "<= 2 x pingpong", ap.mean <= 2.0 * pp.mean,
       "ratio_apply_rtt_mean_to_pingpong_mean"},
      {"apply_rtt_median_us", ap.median, pp.median, "", {},
       "ratio_apply_rtt_median_to_pingpong_median"},
      {"apply_rtt_p99_us", ap.p99, pp.p99, "<= 4 x pingpong", ap.p99 <= 4.0 * pp.p99,
       "ratio_apply_rtt_p99_to_pingpong_p99"},
      {"apply_rtt_p999_us", ap.p999, pp.p999, "", {}, "ratio_apply_rtt_p999_to_pingpong_p999"},
      {"apply_rtt_max_us", ap.max, {}, "", {}, ""},
      {"apply_rtt_stall_share", ap.stall_share, {}, "", {}, ""},
  };
}

// Every row of the full run, in table order.
inline std::vector<Row> all_rows(const Baselines& b, const Figures& f, const DataFigures& d) {
  std::vector<Row> rows = round_trip_rows(b.pingpong, b.pattern_rtt_mean_us, f.apply);
  std::vector<Row> rest = {
      {"farm_send_w1_tasks_per_s", b.farm_send_w1_tasks_per_s, {}, "", {}, ""},
      {"farm_send_w4_tasks_per_s", b.farm_send_w4_tasks_per_s, {}, "", {}, ""},
      {"farm_send_w16_tasks_per_s", b.farm_send_w16_tasks_per_s, {}, "", {}, ""},
      {"farm_send_w32_tasks_per_s", b.farm_send_w32_tasks_per_s, {}, "", {}, ""},
      {"farm_isend_tasks_per_s", b.farm_isend_tasks_per_s, {}, "", {}, ""},
      {"farm_tasks_per_s", b.farm_tasks_per_s, {}, "", {}, ""},
      {"map_chunk1_items_per_s", f.map_chunk1_items_per_s, b.farm_tasks_per_s, ">= 0.7 x farm",
       f.map_chunk1_items_per_s >= 0.7 * b.farm_tasks_per_s, "ratio_map_chunk1_to_farm"},
      {"map_chunk64_items_per_s", f.map_chunk64_items_per_s, {}, ">= 5e6",
       f.map_chunk64_items_per_s >= 5e6, ""},
      {"map_chunk1024_items_per_s", f.map_chunk1024_items_per_s, f.map_chunk64_items_per_s,
       "> chunk64", f.map_chunk1024_items_per_s > f.map_chunk64_items_per_s,
       "ratio_map_chunk1024_to_chunk64"},
      // push lands in huge pages on the engine: its baseline receives into huge pages too.
      {"mpi_bw_huge_gbs", b.mpi_bw_huge_gbs, {}, "", {}, ""},
      {"push_bw_gbs", f.push_bw_gbs, b.mpi_bw_huge_gbs, ">= 0.8 x MPI",
       f.push_bw_gbs >= 0.8 * b.mpi_bw_huge_gbs, "ratio_push_bw_to_mpi_bw_huge"},
      {"mpi_bw_gbs", b.mpi_bw_gbs, {}, "", {}, ""},  // context: 4 KiB pages
      {"idle_engine_cpu_pct", f.idle_engine_cpu_pct, {}, "<= 2", f.idle_engine_cpu_pct <= 2.0,
       ""},
      {"idle_client_cpu_pct", f.idle_client_cpu_pct, {}, "<= 2", f.idle_client_cpu_pct <= 2.0,
       ""},
      {"task_cost_us_1e3", f.task_cost_us_1e3, {}, "", {}, ""},
      {"task_cost_us_1e6", f.task_cost_us_1e6, f.task_cost_us_1e3, "<= 1.25 x 1e3",
       f.task_cost_us_1e6 <= 1.25 * f.task_cost_us_1e3, "ratio_task_cost_1e6_to_1e3"},
      {"record_bytes_per_task", f.record_bytes_per_task, {}, "<= 64",
       f.record_bytes_per_task <= 64.0, ""},
      {"kept_result_bytes_per_task", f.kept_result_bytes_per_task, {}, "", {}, ""},
      // Isolation: against the same figure without it, measured above.
      {"iso_apply_rtt_mean_us", f.iso_apply.mean, f.apply.mean, "", {}, ""},
      {"iso_apply_rtt_us", f.iso_apply.median, f.apply.median, "", {}, ""},
      {"iso_map_chunk1_items_per_s", f.iso_map_chunk1_items_per_s, f.map_chunk1_items_per_s,
       "", {}, ""},
      {"iso_map_chunk64_items_per_s", f.iso_map_chunk64_items_per_s, f.map_chunk64_items_per_s,
       "", {}, ""},
      // A chain is a loop of round trips: its floor is one mean round trip per task.
      {"dep_chain_tasks_per_s", f.dep_chain_tasks_per_s, 1e6 / f.apply.mean, "", {}, ""},
      {"plain_map_items_per_s", f.plain_map_items_per_s, {}, "", {}, ""},
      {"dep_map_items_per_s", f.dep_map_items_per_s, f.plain_map_items_per_s, "", {}, ""},
  };
  for (auto& r : rest) rows.push_back(std::move(r));
  for (auto& r : data_rows(d)) rows.push_back(std::move(r));
  return rows;
}

// The JSON file of the full run: every row and ratio, plus the keys earlier versions wrote for
// the same figures (pingpong_rtt_us: the loop mean; pingpong_round_rtt_us and apply_rtt_us: the
// medians).
inline nlohmann::ordered_json report_json(const Baselines& b, const Figures& f,
                                          const DataFigures& d) {
  nlohmann::ordered_json out = rows_json(all_rows(b, f, d));
  auto alias = [&out](const char* key, const char* of) { out[key] = out[of]; };
  alias("pingpong_rtt_us", "pingpong_rtt_mean_us");
  alias("pingpong_round_rtt_us", "pingpong_rtt_median_us");
  alias("apply_rtt_us", "apply_rtt_median_us");
  return out;
}

inline void report(const Config& cfg, int size, int hwm, const Baselines& b, const Figures& f,
                   const DataFigures& d) {
  fmt::print("mpiply bench: {} ranks ({} engine{}), hwm {}, {} mode{}\n", size, size - 1,
             size == 2 ? "" : "s", hwm, cfg.quick ? "quick" : "full",
             cfg.quick ? " (small sizes: the figures only show the job works)" : "");
  fmt::print("{:<26} {:>10} {:>10} {:>8}  {:<17} {}\n", "metric", "value", "baseline", "ratio",
             "target", "holds");
  int held = 0, judged = 0;
  print_rows(all_rows(b, f, d), held, judged);
  fmt::print("{} of {} targets hold{}\n", held, judged,
             size == 2 ? "" : " (targets are set for 2 ranks; shown here for information)");
  fmt::print("round trips: *_mean_us is one clock read around a loop of {} calls; *_median_us and "
             "*_p99_us time each of another {} calls on its own. farm_tasks_per_s is the best of "
             "blocking MPI_Send and MPI_Isend at window {}{} (the farm uses all {} worker{})\n",
             cfg.apply_rounds, cfg.apply_rounds, hwm,
             hwm_set_in_env() ? ""
                              : fmt::format(" and blocking MPI_Send at 16 and {}", kDeepWindow),
             size - 1, size == 2 ? "" : "s");
  fmt::print("note: dep_chain over {} tasks (baseline 1 / apply_rtt_mean_us), dep_map and "
             "plain_map over {} items at chunksize 1\n",
             f.dep_chain_tasks, f.dep_map_items);
  if (f.cost_large_items != 1000000)
    fmt::print("note: task_cost_us_1e6 and record_bytes_per_task measured over {} tasks\n",
               f.cost_large_items);
  fmt::print("the peers (mpi4py.futures, ipyparallel, Dask) are measured by "
             "jobs/bench/peers/run_peers.py (docs/benchmarks.md)\n");
  if (!cfg.json.empty()) {
    write_json_file(cfg.json, report_json(b, f, d));
    fmt::print("wrote {}\n", cfg.json);
  }
}

}  // namespace bench
