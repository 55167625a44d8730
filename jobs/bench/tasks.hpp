#pragma once
// bench: the registered no-op tasks every row maps over, and the timed map they share.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "common.hpp"

namespace bench {

// ---- the tasks ---------------------------------------------------------------------------------
inline void noop() {}
MPIPLY_REGISTER(noop);

inline std::int64_t noop_item(std::int64_t x) { return x; }
MPIPLY_REGISTER(noop_item);

// CPU seconds (user + system, all threads) the engine process has used so far.
inline double engine_cpu_seconds() { return cpu_seconds_self(); }
MPIPLY_REGISTER(engine_cpu_seconds);

inline std::vector<std::int64_t> iota_items(long n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

// 8 KiB of result, for the purge row.
inline std::vector<double> kib8(int n) {
  return std::vector<double>(static_cast<std::size_t>(n), 1.0);
}
MPIPLY_REGISTER(kib8);

// Wall seconds of one load-balanced map of noop_item over `items`, submit to get().
inline double timed_map(mpiply::Client& rc, const std::vector<std::int64_t>& items,
                        long chunk) {
  auto lv = rc.load_balanced_view();
  auto t0 = SteadyClock::now();
  auto ar = lv.map_async(noop_item, items, {.chunksize = chunk});
  auto out = ar.get();
  double dt = seconds_since(t0);
  if (out.size() != items.size() || (!out.empty() && out.back() != items.back()))
    throw std::runtime_error("bench: map returned wrong results");
  return dt;
}

}  // namespace bench
