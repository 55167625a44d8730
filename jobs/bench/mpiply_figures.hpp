#pragma once
// bench: the mpiply side of the full run (bench.cpp compares it with the raw-MPI baselines): the
// apply round trip (also --part apply's), the maps, isolated tasks, push, the cost, idle and data
// rows, and the dependency rows.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "common.hpp"
#include "data_rows.hpp"
#include "part_rows.hpp"
#include "tasks.hpp"
#include "support/trace_points.hpp"

namespace bench {

// Round trip of one no-op on `view` (engine 0, plain or isolated), as the ping-pong is taken
// (RoundTrip): the mean of a loop timed as a whole, then the median and the tail of calls timed
// one by one, each loop as long as the ping-pong's.
template <class View>
inline RoundTrip apply_round_trip(View view, const Config& cfg) {
  for (int i = 0; i < cfg.apply_warmup; ++i) view.apply_async(noop).get();
  auto t0 = SteadyClock::now();
  // The trace points (tools/trace-points.sh) read this loop; without them these are nothing.
  MPIPLY_TRACE(loop_begin);
  for (int i = 0; i < cfg.apply_rounds; ++i) {
    MPIPLY_TRACE(call);
    view.apply_async(noop).get();
    MPIPLY_TRACE(got);
  }
  MPIPLY_TRACE(loop_end);
  double mean = seconds_since(t0) * 1e6 / cfg.apply_rounds;
  std::vector<double> rtts;
  rtts.reserve(static_cast<std::size_t>(cfg.apply_rounds));
  for (int i = 0; i < cfg.apply_rounds; ++i) {
    auto t1 = SteadyClock::now();
    view.apply_async(noop).get();
    rtts.push_back(seconds_since(t1) * 1e6);
  }
  RoundTrip r = timed_round_trips(rtts);
  r.mean = mean;
  return r;
}

inline Figures measure_mpiply(mpiply::Client& rc, const Config& cfg,
                              const std::vector<double>& data) {
  Figures f;
  auto e0 = rc[0];
  auto all = rc[mpiply::all];

  f.apply = apply_round_trip(e0, cfg);

  idle_rows(rc, cfg, f);

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

  // The apply round trip and the chunksize-1 and -64 maps again, every task isolated: run in the
  // engine's worker process, through shared memory (docs/isolation.md).
  {
    mpiply::TaskFlags iso;
    iso.isolate = true;
    f.iso_apply = apply_round_trip(e0.with_flags(iso), cfg);
    auto ilv = rc.load_balanced_view().with_flags(iso);
    auto timed = [&](const std::vector<std::int64_t>& items, long chunk) {
      auto t0 = SteadyClock::now();
      auto out = ilv.map_async(noop_item, items, {.chunksize = chunk}).get();
      double dt = seconds_since(t0);
      if (out.size() != items.size() || (!out.empty() && out.back() != items.back()))
        throw std::runtime_error("bench: isolated map returned wrong results");
      return dt;
    };
    auto items1 = iota_items(cfg.map1_items);
    std::vector<double> rates;
    for (int r = 0; r < cfg.map1_repeats; ++r) rates.push_back(double(items1.size()) / timed(items1, 1));
    f.iso_map_chunk1_items_per_s = median(rates);
    auto items64 = iota_items(cfg.map64_items);
    f.iso_map_chunk64_items_per_s = double(items64.size()) / timed(items64, 64);
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

  cost_rows(rc, cfg, f);

  // Dependencies. A chain: each apply waits (`after`) for the one before, so tasks run one at a
  // time, each released when its predecessor's result arrives; compare 1 / apply_rtt_mean_us.
  {
    auto lv = rc.load_balanced_view();
    auto prev = lv.apply_async(noop_item, 0);
    prev.get();
    auto t0 = SteadyClock::now();
    for (long i = 1; i <= cfg.dep_chain_tasks; ++i)
      prev = lv.with_flags({.after = prev}).apply_async(noop_item, i);
    if (prev.get() != cfg.dep_chain_tasks) throw std::runtime_error("bench: chain went wrong");
    f.dep_chain_tasks = cfg.dep_chain_tasks;
    f.dep_chain_tasks_per_s = double(cfg.dep_chain_tasks) / seconds_since(t0);
  }
  // A map of chunksize 1 whose every task waits for one earlier task (still running when the
  // map is submitted), against the same map without flags.
  {
    auto items = iota_items(cfg.dep_map_items);
    auto lv = rc.load_balanced_view();
    f.plain_map_items_per_s = double(items.size()) / timed_map(rc, items, 1);
    auto t0 = SteadyClock::now();
    auto first = lv.apply_async(noop_item, -1);
    auto ar = lv.map_async(noop_item, items, {.flags = {.after = first}});
    auto out = ar.get();
    double dt = seconds_since(t0);
    if (out.size() != items.size() || out.back() != items.back())
      throw std::runtime_error("bench: dependent map returned wrong results");
    f.dep_map_items = cfg.dep_map_items;
    f.dep_map_items_per_s = double(items.size()) / dt;
  }
  return f;
}

}  // namespace bench
