// bench: mpiply next to the MPI floor (issue 4). One run measures, on the ranks it is launched
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
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <mpi.h>

#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lo + hi);
}

double cpu_seconds_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Resident memory of this process in bytes (VmRSS), 0 if unknown.
long long rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

// The same high-water mark mpiply uses (MPIPLY_HWM, default 4); mpiply itself rejects bad values.
int hwm_from_env() {
  const char* s = std::getenv("MPIPLY_HWM");
  if (!s || !*s) return 4;
  long v = std::strtol(s, nullptr, 10);
  return v >= 1 && v <= 1024 ? static_cast<int>(v) : 4;
}

// ---- sizes -------------------------------------------------------------------------------------
struct Config {
  bool quick = false;
  std::string json;
  // raw MPI
  int pingpong_warmup = 2000, pingpong_rounds = 50000;
  long farm_tasks = 1000000;
  int farm_repeats = 3;
  std::size_t bw_bytes = std::size_t(64) << 20;
  int bw_repeats = 7;
  // mpiply
  int apply_warmup = 500, apply_rounds = 10000;
  long map1_items = 100000, map64_items = 1000000, map1024_items = 1000000;
  int map1_repeats = 3;
  int cost_small_repeats = 21;
  long cost_large_items = 1000000;
  double idle_seconds = 2.0;

  void make_quick() {
    quick = true;
    pingpong_warmup = 200;
    pingpong_rounds = 2000;
    farm_tasks = 20000;
    farm_repeats = 1;
    bw_bytes = std::size_t(8) << 20;
    bw_repeats = 3;
    apply_warmup = 50;
    apply_rounds = 300;
    map1_items = 10000;
    map64_items = 100000;
    map1024_items = 100000;
    map1_repeats = 1;
    cost_small_repeats = 3;
    cost_large_items = 10000;
    idle_seconds = 0.5;
  }
};

// ---- raw-MPI baselines (every rank of MPI_COMM_WORLD takes part) -------------------------------
constexpr int kTagPing = 101, kTagTask = 102, kTagStop = 103, kTagBw = 104, kTagAck = 105;

struct Baselines {
  double pingpong_rtt_us = 0;
  double farm_tasks_per_s = 0;
  double mpi_bw_gbs = 0;
  double mpi_bw_huge_gbs = 0;  // context only: receive buffer in huge pages
};

// Median round trip of 8 bytes between ranks 0 and 1; other ranks wait in the barrier.
double pingpong(int rank, const Config& cfg) {
  std::int64_t buf = 0;
  std::vector<double> rtts;
  if (rank == 0) rtts.reserve(static_cast<std::size_t>(cfg.pingpong_rounds));
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank <= 1) {
    int peer = 1 - rank;
    for (int i = 0; i < cfg.pingpong_warmup + cfg.pingpong_rounds; ++i) {
      if (rank == 0) {
        auto t0 = SteadyClock::now();
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (i >= cfg.pingpong_warmup) rtts.push_back(seconds_since(t0) * 1e6);
      } else {
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return median(rtts);
}

// A hand-written master/worker farm: rank 0 keeps `hwm` 8-byte tasks outstanding on every worker
// (nonblocking sends, one send buffer per slot) and refills whichever worker answered; workers
// answer each task with 8 bytes. Returns tasks per second on rank 0.
double farm_once(int rank, int size, int hwm, long total) {
  MPI_Barrier(MPI_COMM_WORLD);
  double rate = 0;
  if (rank == 0) {
    int workers = size - 1;
    std::size_t slots = std::size_t(workers) * std::size_t(hwm);
    std::vector<std::int64_t> sendbuf(slots);
    std::vector<MPI_Request> reqs(slots, MPI_REQUEST_NULL);
    std::vector<int> next_slot(std::size_t(workers), 0);  // oldest outstanding slot per worker
    long sent = 0, received = 0;
    auto send_to = [&](int w, std::size_t slot) {
      sendbuf[slot] = sent++;
      MPI_Isend(&sendbuf[slot], 1, MPI_INT64_T, w + 1, kTagTask, MPI_COMM_WORLD, &reqs[slot]);
    };
    auto t0 = SteadyClock::now();
    for (int k = 0; k < hwm; ++k)
      for (int w = 0; w < workers && sent < total; ++w)
        send_to(w, std::size_t(w) * std::size_t(hwm) + std::size_t(k));
    std::int64_t reply = 0;
    MPI_Status st;
    while (received < total) {
      MPI_Recv(&reply, 1, MPI_INT64_T, MPI_ANY_SOURCE, kTagTask, MPI_COMM_WORLD, &st);
      ++received;
      if (sent < total) {
        // Replies come in order, so the slot of the oldest task of this worker is now free.
        int w = st.MPI_SOURCE - 1;
        std::size_t slot = std::size_t(w) * std::size_t(hwm) + std::size_t(next_slot[w]);
        next_slot[w] = (next_slot[w] + 1) % hwm;
        MPI_Wait(&reqs[slot], MPI_STATUS_IGNORE);
        send_to(w, slot);
      }
    }
    double dt = seconds_since(t0);
    MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
    std::int64_t stop = 0;
    for (int w = 1; w < size; ++w) MPI_Send(&stop, 1, MPI_INT64_T, w, kTagStop, MPI_COMM_WORLD);
    rate = double(total) / dt;
  } else {
    std::int64_t task = 0;
    MPI_Status st;
    for (;;) {
      MPI_Recv(&task, 1, MPI_INT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      if (st.MPI_TAG == kTagStop) break;
      MPI_Send(&task, 1, MPI_INT64_T, 0, kTagTask, MPI_COMM_WORLD);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return rate;
}

// Warm bytes from rank 0 to rank 1 by MPI_Send, each transfer closed by a 0-byte
// acknowledgement; the best GB/s (1e9 bytes) over the repeats after one warm-up transfer. Best,
// not median: on a shared VM single transfers vary by 5x with the load, and push is taken the
// same way.
// With huge_pages the receive buffer is 2 MiB aligned and advised MADV_HUGEPAGE, as mpiply's own
// receive buffers are (a context figure: the key mpi_bw_gbs is the plain std::vector case).
double mpi_bandwidth(int rank, const Config& cfg, const std::vector<double>& data,
                     bool huge_pages = false) {
  std::size_t count = cfg.bw_bytes / sizeof(double);
  std::vector<double> plain;
  double* rbuf = nullptr;
  if (rank == 1) {
    if (huge_pages) {
      constexpr std::size_t kHuge = std::size_t(2) << 20;
      std::size_t bytes = (count * sizeof(double) + kHuge - 1) / kHuge * kHuge;
      rbuf = static_cast<double*>(std::aligned_alloc(kHuge, bytes));
      madvise(rbuf, bytes, MADV_HUGEPAGE);
    } else {
      plain.resize(count);
      rbuf = plain.data();
    }
    std::fill(rbuf, rbuf + count, 0.0);  // touched: warm pages
  }
  std::vector<double> rates;
  int n = static_cast<int>(count);
  for (int i = 0; i < cfg.bw_repeats + 1; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
      auto t0 = SteadyClock::now();
      MPI_Send(data.data(), n, MPI_DOUBLE, 1, kTagBw, MPI_COMM_WORLD);
      MPI_Recv(nullptr, 0, MPI_BYTE, 1, kTagAck, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      double dt = seconds_since(t0);
      if (i > 0) rates.push_back(double(count * sizeof(double)) / dt / 1e9);
    } else if (rank == 1) {
      MPI_Recv(rbuf, n, MPI_DOUBLE, 0, kTagBw, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(nullptr, 0, MPI_BYTE, 0, kTagAck, MPI_COMM_WORLD);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (huge_pages) std::free(rbuf);
  return rates.empty() ? 0.0 : *std::max_element(rates.begin(), rates.end());
}

// ---- the tasks ---------------------------------------------------------------------------------
void noop() {}
MPIPLY_REGISTER(noop);

std::int64_t noop_item(std::int64_t x) { return x; }
MPIPLY_REGISTER(noop_item);

// CPU seconds (user + system, all threads) the engine process has used so far.
double engine_cpu_seconds() { return cpu_seconds_self(); }
MPIPLY_REGISTER(engine_cpu_seconds);

// ---- mpiply figures ----------------------------------------------------------------------------
struct Figures {
  double apply_rtt_us = 0;
  double map_chunk1_items_per_s = 0, map_chunk64_items_per_s = 0, map_chunk1024_items_per_s = 0;
  double push_bw_gbs = 0;
  double idle_engine_cpu_pct = 0, idle_client_cpu_pct = 0;
  double task_cost_us_1e3 = 0, task_cost_us_1e6 = 0;
  double record_bytes_per_task = 0;
  long cost_large_items = 0;
};

std::vector<std::int64_t> iota_items(long n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

// Wall seconds of one load-balanced map of noop_item over `items`, submit to get().
double timed_map(mpiply::Client& rc, const std::vector<std::int64_t>& items, long chunk) {
  auto lv = rc.load_balanced_view();
  auto t0 = SteadyClock::now();
  auto ar = lv.map_async(noop_item, items, {.chunksize = chunk});
  auto out = ar.get();
  double dt = seconds_since(t0);
  if (out.size() != items.size() || (!out.empty() && out.back() != items.back()))
    throw std::runtime_error("bench: map returned wrong results");
  return dt;
}

Figures measure_mpiply(mpiply::Client& rc, const Config& cfg, const std::vector<double>& data) {
  Figures f;
  auto e0 = rc[0];
  auto all = rc[mpiply::all];

  // Round trip of one no-op on engine 0.
  for (int i = 0; i < cfg.apply_warmup; ++i) e0.apply_async(noop).get();
  {
    std::vector<double> rtts;
    rtts.reserve(static_cast<std::size_t>(cfg.apply_rounds));
    for (int i = 0; i < cfg.apply_rounds; ++i) {
      auto t0 = SteadyClock::now();
      e0.apply_async(noop).get();
      rtts.push_back(seconds_since(t0) * 1e6);
    }
    f.apply_rtt_us = median(rtts);
  }

  // Idle CPU: every rank has just been busy; now the client does nothing for idle_seconds.
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

  // Load-balanced maps of a no-op.
  {
    auto items = iota_items(cfg.map1_items);
    timed_map(rc, std::vector<std::int64_t>(items.begin(), items.begin() + 1000), 1);  // warm-up
    std::vector<double> rates;
    for (int r = 0; r < cfg.map1_repeats; ++r)
      rates.push_back(double(items.size()) / timed_map(rc, items, 1));
    f.map_chunk1_items_per_s = median(rates);
  }
  {
    auto items = iota_items(cfg.map64_items);
    f.map_chunk64_items_per_s = double(items.size()) / timed_map(rc, items, 64);
  }
  {
    auto items = iota_items(cfg.map1024_items);
    f.map_chunk1024_items_per_s = double(items.size()) / timed_map(rc, items, 1024);
  }

  // push of the same array, repeated under the same name (warm on both sides after the first);
  // the best of the repeats, as for MPI_Send.
  {
    e0.push({{"x", data}});
    std::vector<double> rates;
    for (int i = 0; i < cfg.bw_repeats; ++i) {
      auto t0 = SteadyClock::now();
      e0.push({{"x", data}});
      rates.push_back(double(data.size() * sizeof(double)) / seconds_since(t0) / 1e9);
    }
    f.push_bw_gbs = *std::max_element(rates.begin(), rates.end());
    e0.clear();
  }

  // Wall time per task for 10^3 tasks (median of repeats) and for one large run, during which
  // rank 0's resident memory grows by the task records the client keeps.
  {
    auto small = iota_items(1000);
    std::vector<double> costs;
    for (int r = 0; r < cfg.cost_small_repeats; ++r)
      costs.push_back(timed_map(rc, small, 1) / double(small.size()) * 1e6);
    f.task_cost_us_1e3 = median(costs);
  }
  {
    auto items = iota_items(cfg.cost_large_items);
    malloc_trim(0);
    long long rss0 = rss_bytes();
    double dt = timed_map(rc, items, 1);  // the AsyncMapResult and its values are gone after this
    malloc_trim(0);
    long long rss1 = rss_bytes();
    f.cost_large_items = cfg.cost_large_items;
    f.task_cost_us_1e6 = dt / double(items.size()) * 1e6;
    f.record_bytes_per_task = double(rss1 - rss0) / double(items.size());
  }
  return f;
}

// ---- report ------------------------------------------------------------------------------------
struct Row {
  std::string metric;
  double value;
  std::optional<double> baseline;  // the figure the ratio is taken against
  std::string target;              // empty: no target
  std::optional<bool> holds;
};

std::string num(double v) {
  double a = std::abs(v);
  if (a >= 1e5) return fmt::format("{:.3g}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

void report(const Config& cfg, int size, int hwm, const Baselines& b, const Figures& f) {
  double r_apply = f.apply_rtt_us / b.pingpong_rtt_us;
  double r_map1 = f.map_chunk1_items_per_s / b.farm_tasks_per_s;
  double r_push = f.push_bw_gbs / b.mpi_bw_gbs;
  double r_cost = f.task_cost_us_1e6 / f.task_cost_us_1e3;
  double r_1024 = f.map_chunk1024_items_per_s / f.map_chunk64_items_per_s;

  std::vector<Row> rows = {
      {"pingpong_rtt_us", b.pingpong_rtt_us, {}, "", {}},
      {"apply_rtt_us", f.apply_rtt_us, b.pingpong_rtt_us, "<= 5 x pingpong", r_apply <= 5.0},
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
      {"record_bytes_per_task", f.record_bytes_per_task, {}, "<= 256",
       f.record_bytes_per_task <= 256.0},
  };

  fmt::print("mpiply bench: {} ranks ({} engine{}), hwm {}, {} mode{}\n", size, size - 1,
             size == 2 ? "" : "s", hwm, cfg.quick ? "quick" : "full",
             cfg.quick ? " (small sizes: the figures only show the job works)" : "");
  fmt::print("{:<26} {:>10} {:>10} {:>8}  {:<17} {}\n", "metric", "value", "baseline", "ratio",
             "target", "holds");
  int held = 0, judged = 0;
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
  fmt::print("{} of {} targets hold{}\n", held, judged,
             size == 2 ? "" : " (targets are set for 2 ranks; shown here for information)");
  fmt::print("context: MPI_Send into a MADV_HUGEPAGE receive buffer (as mpiply receives pushes): "
             "{:.2f} GB/s; push_bw_gbs / that = {:.3f}\n",
             b.mpi_bw_huge_gbs, f.push_bw_gbs / b.mpi_bw_huge_gbs);
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
    std::string out = "{\n";
    auto add = [&out](const char* key, double v, bool last = false) {
      out += fmt::format("  \"{}\": {:.6g}{}\n", key, v, last ? "" : ",");
    };
    add("pingpong_rtt_us", b.pingpong_rtt_us);
    add("apply_rtt_us", f.apply_rtt_us);
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
    add("ratio_apply_rtt_to_pingpong", r_apply);
    add("ratio_map_chunk1_to_farm", r_map1);
    add("ratio_map_chunk1024_to_chunk64", r_1024);
    add("ratio_push_bw_to_mpi_bw", r_push);
    add("ratio_task_cost_1e6_to_1e3", r_cost, true);
    out += "}\n";
    std::FILE* fp = std::fopen(cfg.json.c_str(), "w");
    if (!fp || std::fputs(out.c_str(), fp) < 0 || std::fclose(fp) != 0)
      throw std::runtime_error("bench: cannot write " + cfg.json);
    fmt::print("wrote {}\n", cfg.json);
  }
}

// Before MPI is up: print only once, from the first rank (or when not launched by mpirun).
bool first_rank_hint() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* s = std::getenv(v)) return std::atoi(s) == 0;
  return true;
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: mpirun -n N bench [--quick] [--json FILE]   (N >= 2; targets are set for "
               "N = 2)\n\n"
               "Measures mpiply next to raw MPI in one run: ping-pong vs apply round trip, a "
               "hand-written\n"
               "task farm vs load-balanced map (chunksize 1, 64, 1024), MPI_Send vs push "
               "bandwidth (64 MiB),\n"
               "idle CPU of client and engines, wall time per task for 1e3 and 1e6 tasks, and "
               "rank 0 memory\n"
               "per task record. Rank 0 prints a table of figures, ratios and targets.\n\n"
               "  --quick       small sizes (CI: checks the job works; timings are not judged)\n"
               "  --json FILE   also write the figures to FILE as JSON\n"
               "  --help        this text\n\n"
               "MPIPLY_HWM (default 4) sets the tasks outstanding per engine, for mpiply and the "
               "farm alike.\n");
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      if (first_rank_hint()) usage(stdout);
      return 0;
    } else if (a == "--quick") {
      cfg.make_quick();
    } else if (a == "--json") {
      if (i + 1 >= argc) {
        if (first_rank_hint()) std::fprintf(stderr, "bench: --json needs a file name\n");
        return 2;
      }
      cfg.json = argv[++i];
    } else {
      if (first_rank_hint())
        std::fprintf(stderr, "bench: unknown argument '%s'; try --help\n", argv[i]);
      return 2;
    }
  }

  mpiply::Environment env(argc, argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    std::fprintf(stderr,
                 "bench: needs at least 2 ranks (rank 0 is the client, rank 1 engine 0); run it "
                 "as mpirun -n 2 bench\n");
    return 2;
  }
  int hwm = hwm_from_env();

  // Baselines, every rank taking part.
  Baselines b;
  std::vector<double> data(cfg.bw_bytes / sizeof(double));
  if (rank == 0)
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = double(i);  // touched: warm
  else
    std::vector<double>().swap(data);
  double pp = pingpong(rank, cfg);
  farm_once(rank, size, hwm, std::min(cfg.farm_tasks, 10000L));  // warm-up
  std::vector<double> farm_rates;
  for (int r = 0; r < cfg.farm_repeats; ++r)
    farm_rates.push_back(farm_once(rank, size, hwm, cfg.farm_tasks));
  double bw = mpi_bandwidth(rank, cfg, data);
  double bw_huge = mpi_bandwidth(rank, cfg, data, true);
  if (rank == 0) {
    b.pingpong_rtt_us = pp;
    b.farm_tasks_per_s = median(farm_rates);
    b.mpi_bw_gbs = bw;
    b.mpi_bw_huge_gbs = bw_huge;
  }

  return mpiply::run(argc, argv, [&](mpiply::Client& rc) -> int {
    if (rc.hwm() != hwm)
      fmt::print(stderr, "bench: mpiply uses hwm {} but the farm used {}\n", rc.hwm(), hwm);
    Figures f = measure_mpiply(rc, cfg, data);
    report(cfg, size, rc.hwm(), b, f);
    return 0;
  });
}
