#pragma once
// bench: what every part shares: clocks, medians, CPU and memory readings, the sizes of a run,
// and the figures it collects (raw-MPI baselines and mpiply's).
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <mpi.h>

namespace bench {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lo + hi);
}

// The p-th percentile (0 < p <= 100) by nearest rank: the smallest sample with at least p % of
// the samples at or below it (for p99 of 50,000 round trips, the 49,500th smallest).
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  // p / 100 * n is an integer or a fraction at least 1/1,000 above one for the p bench uses
  // (99, 99.9), but in floating point it can land just above an integer (99.9 / 100 * 1,000
  // = 999.0000000000001): without the allowance ceil would take the next rank.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(v.size()) - 1e-6));
  std::size_t k = std::clamp<std::size_t>(rank, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// A round trip several ways. The mean is one clock read around a whole loop of calls (what a
// loop of them costs, with no clock cost inside); the others come from a second loop that times
// every call on its own: the median, the tail (p99, p99.9, the slowest) and the stall share, the
// part of that loop's time spent in round trips over 10 times its median (what lifts a mean above
// its median). Every ratio of round trips compares the same field on both sides.
struct RoundTrip {
  double mean = 0, median = 0, p99 = 0, p999 = 0, max = 0;  // microseconds
  double stall_share = 0;                                     // 0 .. 1
};

// The timed loop's fields of a RoundTrip (all but the mean), from its samples in microseconds.
inline RoundTrip timed_round_trips(const std::vector<double>& rtts) {
  RoundTrip r;
  if (rtts.empty()) return r;
  r.median = median(rtts);
  r.p99 = percentile(rtts, 99);
  r.p999 = percentile(rtts, 99.9);
  r.max = *std::max_element(rtts.begin(), rtts.end());
  double total = 0, stalled = 0;
  for (double t : rtts) {
    total += t;
    if (t > 10 * r.median) stalled += t;
  }
  r.stall_share = total > 0 ? stalled / total : 0;
  return r;
}

inline double cpu_seconds_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Resident memory of this process in bytes (VmRSS), 0 if unknown.
inline long long rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

// The same high-water mark mpiply uses (MPIPLY_HWM, default 4); mpiply itself rejects bad values.
// The deepest window mpiply gives an engine running short tasks when MPIPLY_HWM is not set
// (src/scheduling/window_policy.hpp, WindowPolicy::kDeepWindow).
inline constexpr int kDeepWindow = 32;
inline bool hwm_set_in_env() {
  const char* s = std::getenv("MPIPLY_HWM");
  return s && *s;
}
inline int hwm_from_env() {
  const char* s = std::getenv("MPIPLY_HWM");
  if (!s || !*s) return 4;
  long v = std::strtol(s, nullptr, 10);
  return v >= 1 && v <= 1024 ? static_cast<int>(v) : 4;
}

// ---- sizes -------------------------------------------------------------------------------------
struct Config {
  bool quick = false;
  std::string json;
  std::string part = "all";  // all, cpu (rank 0's CPU per result only), cost (cost rows only)
  // raw MPI
  int pingpong_warmup = 2000, pingpong_rounds = 50000;
  long farm_tasks = 1000000;
  int farm_repeats = 3;
  std::size_t bw_bytes = std::size_t(64) << 20;
  int bw_repeats = 7;
  // mpiply
  int apply_warmup = 500, apply_rounds = 50000;  // as many rounds as the ping-pong
  long map1_items = 100000, map64_items = 1000000, map1024_items = 1000000;
  int map1_repeats = 3;
  int cost_small_repeats = 21;
  long cost_large_items = 1000000;
  double idle_seconds = 2.0;
  long dep_chain_tasks = 10000, dep_map_items = 100000;
  long keep_tasks = 2000000;  // the hub keep rows' stream (keep_rows.hpp)

  void make_quick() {
    quick = true;
    pingpong_warmup = 200;
    pingpong_rounds = 2000;
    farm_tasks = 20000;
    farm_repeats = 1;
    bw_bytes = std::size_t(8) << 20;
    bw_repeats = 3;
    apply_warmup = 50;
    apply_rounds = 2000;
    map1_items = 10000;
    map64_items = 100000;
    map1024_items = 100000;
    map1_repeats = 1;
    cost_small_repeats = 3;
    cost_large_items = 10000;
    dep_chain_tasks = 1000;
    dep_map_items = 10000;
    idle_seconds = 0.5;
    keep_tasks = 100000;
  }
};

// The raw-MPI figures, measured before mpiply::run.
struct Baselines {
  RoundTrip pingpong;  // 8 bytes there and back between ranks 0 and 1
  // Context: the round trip of mpiply's own messaging for an apply, in plain MPI (pattern_loop).
  double pattern_rtt_mean_us = 0;
  double farm_tasks_per_s = 0;       // tight: the best variant below at a window mpiply uses
  double farm_isend_tasks_per_s = 0; // context rows: nonblocking sends at window = hwm,
  double farm_send_w1_tasks_per_s = 0, farm_send_w4_tasks_per_s = 0,  // blocking sends at
         farm_send_w16_tasks_per_s = 0,                               // windows 1, 4, 16,
         farm_send_w32_tasks_per_s = 0;                               // 32 (kDeepWindow)
  double mpi_bw_huge_gbs = 0;  // receive buffer in huge pages, as mpiply receives a push
  double mpi_bw_gbs = 0;       // context: receive buffer a plain std::vector (4 KiB pages)
};

// mpiply's figures, measured inside mpiply::run.
struct Figures {
  RoundTrip apply;  // rc[0].apply_async(noop).get()
  double map_chunk1_items_per_s = 0, map_chunk64_items_per_s = 0, map_chunk1024_items_per_s = 0;
  double push_bw_gbs = 0;
  double idle_engine_cpu_pct = 0, idle_client_cpu_pct = 0;
  double task_cost_us_1e3 = 0, task_cost_us_1e6 = 0;
  double record_bytes_per_task = 0;      // rank-0 RSS growth per finished task
  double kept_result_bytes_per_task = 0;  // of which the hub's kept results (rc.results_bytes())
  long cost_large_items = 0;
  // The same apply and maps with every task isolated (docs/isolation.md), in the same run.
  RoundTrip iso_apply;
  double iso_map_chunk1_items_per_s = 0, iso_map_chunk64_items_per_s = 0;
  // Dependencies (LoadBalancedView `after`): a chain where each apply waits for the one before,
  // and a map whose every task waits for one earlier task; plain map / apply (its mean: the
  // chain is a loop too) as the baselines.
  double dep_chain_tasks_per_s = 0, dep_map_items_per_s = 0, plain_map_items_per_s = 0;
  long dep_chain_tasks = 0, dep_map_items = 0;
};

}  // namespace bench

namespace bench {

// Moving data in and out of engines (issue 12): 64 MiB by pull, scatter and gather against
// MPI_Recv, MPI_Scatterv and MPI_Gatherv, and a map of vectors pushed and pulled against
// Boost.MPI sending the same object. GB/s (1e9 B), the best of the repeats after a warm-up.
struct DataFigures {
  double bytes = 0, payload_bytes = 0;
  double mpi_recv_gbs = 0, mpi_scatterv_gbs = 0, mpi_gatherv_gbs = 0;
  // The same patterns by hand, every share's send (receive) posted at once: Open MPI's
  // Scatterv and Gatherv go one share after the other, which loses from 3 ranks on.
  double mpi_scatter_isend_gbs = 0, mpi_gather_irecv_gbs = 0;
  double mpi_scatter_best_gbs() const { return std::max(mpi_scatterv_gbs, mpi_scatter_isend_gbs); }
  double mpi_gather_best_gbs() const { return std::max(mpi_gatherv_gbs, mpi_gather_irecv_gbs); }
  double mpi_recv_4k_gbs = 0;     // context: both buffers plain std::vectors (4 KiB pages)
  double mpi_recv_fresh_gbs = 0;  // into a new, untouched buffer each time (as pull returns)
  double mpi_gather_fresh_gbs = 0;  // gather into a new, untouched buffer (as gather returns)
  double boostmpi_send_gbs = 0, boostmpi_return_gbs = 0;
  double pull_gbs = 0, scatter_gbs = 0, gather_gbs = 0;
  double pull_into_gbs = 0, gather_into_gbs = 0;  // into a warm buffer of the caller's
  double payload_push_gbs = 0, payload_pull_gbs = 0;
};

}  // namespace bench
