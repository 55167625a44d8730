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
struct Row {
  std::string metric;
  double value;
  std::optional<double> baseline;  // the figure the ratio is taken against
  std::string target;              // empty: no target
  std::optional<bool> holds;
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
      {"mpi_recv_gbs", d.mpi_recv_gbs, {}, "", {}},
      {"pull_into_gbs", d.pull_into_gbs, d.mpi_recv_gbs, ">= 0.8 x MPI",
       d.pull_into_gbs >= 0.8 * d.mpi_recv_gbs},
      {"mpi_recv_4k_gbs", d.mpi_recv_4k_gbs, {}, "", {}},  // context: 4 KiB pages
      {"mpi_recv_fresh_gbs", d.mpi_recv_fresh_gbs, {}, "", {}},
      // pull returns a new vector: context, against MPI into fresh memory
      {"pull_gbs", d.pull_gbs, d.mpi_recv_fresh_gbs, "", {}},
      // Scatter and gather against the better of the collective and the hand-posted version.
      {"mpi_scatterv_gbs", d.mpi_scatterv_gbs, {}, "", {}},
      {"mpi_scatter_isend_gbs", d.mpi_scatter_isend_gbs, {}, "", {}},
      {"scatter_gbs", d.scatter_gbs, d.mpi_scatter_best_gbs(), ">= 0.8 x MPI",
       d.scatter_gbs >= 0.8 * d.mpi_scatter_best_gbs()},
      {"mpi_gatherv_gbs", d.mpi_gatherv_gbs, {}, "", {}},
      {"mpi_gather_irecv_gbs", d.mpi_gather_irecv_gbs, {}, "", {}},
      {"gather_into_gbs", d.gather_into_gbs, d.mpi_gather_best_gbs(), ">= 0.8 x MPI",
       d.gather_into_gbs >= 0.8 * d.mpi_gather_best_gbs()},
      {"gather_gbs", d.gather_gbs, d.mpi_gather_best_gbs(), "", {}},  // a new vector: context
      {"boostmpi_send_gbs", d.boostmpi_send_gbs, {}, "", {}},
      {"payload_push_gbs", d.payload_push_gbs, d.boostmpi_send_gbs, ">= 1 x Boost.MPI",
       d.payload_push_gbs >= d.boostmpi_send_gbs},
      {"boostmpi_return_gbs", d.boostmpi_return_gbs, {}, "", {}},
      {"payload_pull_gbs", d.payload_pull_gbs, d.boostmpi_return_gbs, ">= 1 x Boost.MPI",
       d.payload_pull_gbs >= d.boostmpi_return_gbs},
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

// The data rows alone (bench --part data).
inline void data_report(const Config& cfg, int size, const DataFigures& d) {
  fmt::print("mpiply bench, data: {} ranks, {:.0f} MiB (map payload: 256 vectors), best of {}\n",
             size, d.bytes / (1 << 20), cfg.bw_repeats);
  int held = 0, judged = 0;
  print_rows(data_rows(d), held, judged);
  if (!cfg.json.empty()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& r : data_rows(d)) {
      out[r.metric] = r.value;
      if (r.baseline) out["ratio_" + r.metric + "_to_baseline"] = r.value / *r.baseline;
    }
    write_json_file(cfg.json, out);
  }
}

inline void report(const Config& cfg, int size, int hwm, const Baselines& b, const Figures& f,
                   const DataFigures& d) {
  double r_apply = f.apply_rtt_us / b.pingpong_rtt_us;
  double r_map1 = f.map_chunk1_items_per_s / b.farm_tasks_per_s;
  double r_push = f.push_bw_gbs / b.mpi_bw_gbs;
  double r_cost = f.task_cost_us_1e6 / f.task_cost_us_1e3;
  double r_1024 = f.map_chunk1024_items_per_s / f.map_chunk64_items_per_s;

  std::vector<Row> rows = {
      {"pingpong_round_rtt_us", b.pingpong_round_rtt_us, {}, "", {}},
      {"pingpong_rtt_us", b.pingpong_rtt_us, {}, "", {}},
      {"apply_rtt_us", f.apply_rtt_us, b.pingpong_rtt_us, "<= 2 x pingpong", r_apply <= 2.0},
      {"farm_send_w1_tasks_per_s", b.farm_send_w1_tasks_per_s, {}, "", {}},
      {"farm_send_w4_tasks_per_s", b.farm_send_w4_tasks_per_s, {}, "", {}},
      {"farm_send_w16_tasks_per_s", b.farm_send_w16_tasks_per_s, {}, "", {}},
      {"farm_isend_tasks_per_s", b.farm_isend_tasks_per_s, {}, "", {}},
      {"farm_tasks_per_s", b.farm_tasks_per_s, {}, "", {}},
      {"map_chunk1_items_per_s", f.map_chunk1_items_per_s, b.farm_tasks_per_s, ">= 0.5 x farm",
       r_map1 >= 0.5},
      {"map_chunk64_items_per_s", f.map_chunk64_items_per_s, {}, ">= 5e6",
       f.map_chunk64_items_per_s >= 5e6},
      {"map_chunk1024_items_per_s", f.map_chunk1024_items_per_s, f.map_chunk64_items_per_s,
       "> chunk64", r_1024 > 1.0},
      {"mpi_bw_gbs", b.mpi_bw_gbs, {}, "", {}},
      {"push_bw_gbs", f.push_bw_gbs, b.mpi_bw_gbs, ">= 0.8 x mpi_bw", r_push >= 0.8},
      {"idle_engine_cpu_pct", f.idle_engine_cpu_pct, {}, "<= 2", f.idle_engine_cpu_pct <= 2.0},
      {"idle_client_cpu_pct", f.idle_client_cpu_pct, {}, "<= 2", f.idle_client_cpu_pct <= 2.0},
      {"task_cost_us_1e3", f.task_cost_us_1e3, {}, "", {}},
      {"task_cost_us_1e6", f.task_cost_us_1e6, f.task_cost_us_1e3, "<= 1.25 x 1e3",
       r_cost <= 1.25},
      {"record_bytes_per_task", f.record_bytes_per_task, {}, "<= 64",
       f.record_bytes_per_task <= 64.0},
      {"kept_result_bytes_per_task", f.kept_result_bytes_per_task, {}, "", {}},
      // Isolation: ratios against the same figure without it, measured above.
      {"iso_apply_rtt_us", f.iso_apply_rtt_us, f.apply_rtt_us, "", {}},
      {"iso_map_chunk1_items_per_s", f.iso_map_chunk1_items_per_s, f.map_chunk1_items_per_s,
       "", {}},
      {"iso_map_chunk64_items_per_s", f.iso_map_chunk64_items_per_s, f.map_chunk64_items_per_s,
       "", {}},
      {"dep_chain_tasks_per_s", f.dep_chain_tasks_per_s, 1e6 / f.apply_rtt_us, "", {}},
      {"plain_map_items_per_s", f.plain_map_items_per_s, {}, "", {}},
      {"dep_map_items_per_s", f.dep_map_items_per_s, f.plain_map_items_per_s, "", {}},
  };

  fmt::print("mpiply bench: {} ranks ({} engine{}), hwm {}, {} mode{}\n", size, size - 1,
             size == 2 ? "" : "s", hwm, cfg.quick ? "quick" : "full",
             cfg.quick ? " (small sizes: the figures only show the job works)" : "");
  fmt::print("{:<26} {:>10} {:>10} {:>8}  {:<17} {}\n", "metric", "value", "baseline", "ratio",
             "target", "holds");
  int held = 0, judged = 0;
  for (auto& r : data_rows(d)) rows.push_back(std::move(r));
  print_rows(rows, held, judged);
  fmt::print("{} of {} targets hold{}\n", held, judged,
             size == 2 ? "" : " (targets are set for 2 ranks; shown here for information)");
  fmt::print("baselines: pingpong_rtt_us is Wtime over the whole loop (pingpong_round_rtt_us: "
             "median of rounds timed one by one); farm_tasks_per_s is the best of blocking "
             "MPI_Send and MPI_Isend at window {} (the farm uses all {} worker{})\n",
             hwm, size - 1, size == 2 ? "" : "s");
  fmt::print("context: MPI_Send into a MADV_HUGEPAGE receive buffer (as mpiply receives pushes): "
             "{:.2f} GB/s; push_bw_gbs / that = {:.3f}\n",
             b.mpi_bw_huge_gbs, f.push_bw_gbs / b.mpi_bw_huge_gbs);
  fmt::print("note: dep_chain over {} tasks (baseline 1 / apply_rtt_us), dep_map and plain_map "
             "over {} items at chunksize 1\n",
             f.dep_chain_tasks, f.dep_map_items);
  if (f.cost_large_items != 1000000)
    fmt::print("note: task_cost_us_1e6 and record_bytes_per_task measured over {} tasks\n",
               f.cost_large_items);
  fmt::print(
      "for orientation (issue 4, quiet 2-rank VM): MPI ping-pong 8 B 0.86 us; hand-written MPI "
      "farm 1.2M tasks/s (1 outstanding), ~3M (4)\n"
      "  warm 64 MiB MPI_Send 7.5 GB/s; Boost.Serialization of it 0.14 GB/s; first touch of 64 "
      "MiB 0.35 GB/s (huge pages 11)\n"
      "  mpi4py.futures: 2,300 items/s at chunksize 1, 130,000 at 64, 410 us round trip\n"
      "  ipyparallel 7: 250 items/s, 4.6 ms round trip; Dask: 560 items/s, 10.7 ms\n");

  if (!cfg.json.empty()) {
    // A figure that is not finite (a ratio over a zero baseline, a rate over no time) is null:
    // JSON has no inf or nan, and a reader must not mistake it for a measurement.
    nlohmann::ordered_json out = nlohmann::ordered_json::object();  // keys in this order
    auto add = [&out](const char* key, double v) {
      out[key] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
    };
    add("pingpong_round_rtt_us", b.pingpong_round_rtt_us);
    add("pingpong_rtt_us", b.pingpong_rtt_us);
    add("apply_rtt_us", f.apply_rtt_us);
    add("farm_send_w1_tasks_per_s", b.farm_send_w1_tasks_per_s);
    add("farm_send_w4_tasks_per_s", b.farm_send_w4_tasks_per_s);
    add("farm_send_w16_tasks_per_s", b.farm_send_w16_tasks_per_s);
    add("farm_isend_tasks_per_s", b.farm_isend_tasks_per_s);
    add("farm_tasks_per_s", b.farm_tasks_per_s);
    add("map_chunk1_items_per_s", f.map_chunk1_items_per_s);
    add("map_chunk64_items_per_s", f.map_chunk64_items_per_s);
    add("map_chunk1024_items_per_s", f.map_chunk1024_items_per_s);
    add("mpi_bw_gbs", b.mpi_bw_gbs);
    add("push_bw_gbs", f.push_bw_gbs);
    add("idle_engine_cpu_pct", f.idle_engine_cpu_pct);
    add("idle_client_cpu_pct", f.idle_client_cpu_pct);
    add("task_cost_us_1e3", f.task_cost_us_1e3);
    add("task_cost_us_1e6", f.task_cost_us_1e6);
    add("record_bytes_per_task", f.record_bytes_per_task);
    add("kept_result_bytes_per_task", f.kept_result_bytes_per_task);
    add("iso_apply_rtt_us", f.iso_apply_rtt_us);
    add("iso_map_chunk1_items_per_s", f.iso_map_chunk1_items_per_s);
    add("iso_map_chunk64_items_per_s", f.iso_map_chunk64_items_per_s);
    add("dep_chain_tasks_per_s", f.dep_chain_tasks_per_s);
    add("plain_map_items_per_s", f.plain_map_items_per_s);
    add("dep_map_items_per_s", f.dep_map_items_per_s);
    for (const auto& r : data_rows(d)) {
      add(r.metric.c_str(), r.value);
      if (r.baseline) add(("ratio_" + r.metric + "_to_baseline").c_str(), r.value / *r.baseline);
    }
    add("ratio_apply_rtt_to_pingpong", r_apply);
    add("ratio_map_chunk1_to_farm", r_map1);
    add("ratio_map_chunk1024_to_chunk64", r_1024);
    add("ratio_push_bw_to_mpi_bw", r_push);
    add("ratio_task_cost_1e6_to_1e3", r_cost);
    write_json_file(cfg.json, out);
    fmt::print("wrote {}\n", cfg.json);
  }
}

}  // namespace bench
