#pragma once
// bench: rank 0's memory over a long stream of tasks (docs/hub.md, "Memory"). The hub's cap is
// fixed for a whole mpiply::run, so these run in runs of their own: a stream of chunksize-1 maps
// of a no-op in batches of 10^4 (each handle dropped once read), once with the cap
// (RunOptions::hub_keep = 10^5) and once without it, purging everything after every tenth of
// the stream. hub_keep_growth_mb: rank 0's peak resident growth under the cap;
// purge_growth_ratio: rank 0's resident memory just after the last five purges over that after
// the first five, on average (1.0 is flat). Then, in each run, a long loop of no-op applies
// (`--keep-tasks` / 2 calls, each get() before the next): its mean round trip and rank 0's
// resident growth per call, apply_loop_* without the cap and apply_loop_capped_* with it. A loop
// of applies is where the hub's memory per call shows: every call adds a record, a submission
// and its archived call, and what fresh pages cost to fault in comes on top of the round trip.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <mpiply/mpiply.hpp>

#include "common.hpp"
#include "tasks.hpp"

namespace bench {

struct KeepFigures {
  long tasks = 0;
  double hub_keep_growth_mb = 0;
  double purge_growth_ratio = 0;
  double purge_first_mb = 0, purge_last_mb = 0;
};

// One long loop of no-op applies on engine 0: the mean round trip (the loop timed as a whole)
// and rank 0's resident growth per call.
struct ApplyLoop {
  double mean_us = 0, bytes_per_call = 0;
};
inline ApplyLoop apply_loop(mpiply::Client& rc, long calls) {
  auto e0 = rc[0];
  for (int i = 0; i < 1000; ++i) e0.apply_async(noop).get();  // warm-up
  long long rss0 = rss_bytes();
  auto t0 = SteadyClock::now();
  for (long i = 0; i < calls; ++i) e0.apply_async(noop).get();
  ApplyLoop a;
  a.mean_us = seconds_since(t0) * 1e6 / double(calls);
  a.bytes_per_call = double(rss_bytes() - rss0) / double(calls);
  return a;
}

// Starts a new peak: VmHWM is the process's peak since it began, and in the full bench the
// parts before this one (64 MiB transfers, the 10^6-task map) have set it already, so without a
// reset the growth measured here would be theirs. Writing 5 to clear_refs resets it (Linux 4.0).
inline void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  if (!f.flush())
    throw std::runtime_error("bench: cannot reset the peak RSS (/proc/self/clear_refs)");
}

inline long long peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

inline int keep_rows(int argc, char** argv, const Config& cfg) {
  constexpr long kBatch = 10'000;
  const long n = std::max(cfg.keep_tasks / kBatch, 10L) * kBatch, cycle = n / 10;
  const std::vector<std::int64_t> xs = iota_items(kBatch);
  auto batch = [&](mpiply::LoadBalancedView& lv) {
    auto got = lv.map_async(noop_item, xs, {.chunksize = 1}).get();
    if (got.size() != xs.size()) throw std::runtime_error("bench: keep map went wrong");
  };
  KeepFigures k;
  k.tasks = n;
  const long calls = std::max(cfg.keep_tasks / 2, 1000L);
  ApplyLoop loop, loop_capped;
  mpiply::RunOptions capped;
  capped.hub_keep = 100'000;
  int code = mpiply::run(argc, argv, capped, [&](mpiply::Client& rc) -> int {
    auto lv = rc.load_balanced_view();
    malloc_trim(0);
    reset_peak_rss();
    long long rss0 = rss_bytes();
    for (long done = 0; done < n; done += kBatch) batch(lv);
    k.hub_keep_growth_mb = double(peak_rss_bytes() - rss0) / (1 << 20);
    loop_capped = apply_loop(rc, calls);
    return 0;
  });
  if (code != 0) return code;
  std::vector<long long> at_purge;
  code = mpiply::run(argc, argv, [&](mpiply::Client& rc) -> int {
    auto lv = rc.load_balanced_view();
    for (long done = 0; done < n;) {
      batch(lv);
      done += kBatch;
      if (done % cycle < kBatch) {
        rc.purge_everything();  // trims the heap itself
        at_purge.push_back(rss_bytes());
      }
    }
    loop = apply_loop(rc, calls);  // after the last purge: the hub is all but empty
    return 0;
  });
  if (code != 0) return code;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0 || at_purge.empty()) return 0;
  // The block being filled stays after a purge, resident as far as it was filled, so single
  // readings differ by up to a block: the halves are compared on average.
  const std::size_t half = at_purge.size() / 2;
  double first = 0, last = 0;
  for (std::size_t i = 0; i < half; ++i) {
    first += double(at_purge[i]) / double(half);
    last += double(at_purge[at_purge.size() - half + i]) / double(half);
  }
  k.purge_first_mb = first / (1 << 20);
  k.purge_last_mb = last / (1 << 20);
  k.purge_growth_ratio = last / first;
  fmt::print("hub keep: {} chunksize-1 tasks in maps of {}: with hub_keep 100000 rank-0 peak RSS "
             "+{:.1f} MiB (hub_keep_growth_mb {:.1f}); no cap, purge_everything every {}: RSS "
             "after the first five purges {:.1f} MiB, after the last five {:.1f} MiB (means) "
             "(purge_growth_ratio {:.3f})\n",
             n, kBatch, k.hub_keep_growth_mb, k.hub_keep_growth_mb, cycle, k.purge_first_mb,
             k.purge_last_mb, k.purge_growth_ratio);
  fmt::print("apply loop: {} no-op applies on engine 0: no cap {:.3f} us a call, rank 0 +{:.1f} "
             "bytes a call (apply_loop_mean_us, apply_loop_bytes_per_call); hub_keep 100000 "
             "{:.3f} us a call, +{:.1f} bytes a call (apply_loop_capped_*)\n",
             calls, loop.mean_us, loop.bytes_per_call, loop_capped.mean_us,
             loop_capped.bytes_per_call);
  if (!cfg.json.empty()) {
    // Added to the file the full run's report wrote (or a new one with --part keep).
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    if (std::ifstream in(cfg.json); in) out = nlohmann::ordered_json::parse(in, nullptr, false);
    if (!out.is_object()) out = nlohmann::ordered_json::object();
    out["hub_keep_growth_mb"] = k.hub_keep_growth_mb;
    out["purge_growth_ratio"] = k.purge_growth_ratio;
    out["apply_loop_mean_us"] = loop.mean_us;
    out["apply_loop_bytes_per_call"] = loop.bytes_per_call;
    out["apply_loop_capped_mean_us"] = loop_capped.mean_us;
    out["apply_loop_capped_bytes_per_call"] = loop_capped.bytes_per_call;
    std::ofstream(cfg.json, std::ios::trunc) << out.dump(2) << '\n';
  }
  return 0;
}

}  // namespace bench
