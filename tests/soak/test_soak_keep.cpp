// Soak: rank 0's memory stays flat over a long stream of tasks (docs/hub.md, "Memory"). A stream
// of chunksize-1 maps of a no-op (batches of 10^4 tasks, every value checked, each handle dropped
// once read), MPIPLY_SOAK_TASKS tasks in all (default 2*10^6, as CI runs it; docs/testing.md
// gives the 10^7 figures of the same command):
// - with the hub's cap (RunOptions::hub_keep = 10^5) rank 0's resident memory grows by at most
//   kCapGrowthBound over the whole stream, whatever its length. Without records given back,
//   2*10^6 tasks alone would hold ~100 MB of records (48 B each);
// - with no cap and purge_everything after every tenth of the stream, the resident memory just
//   after the last five purges stays within 10% of that after the first five, on average
//   (records kept and not given back would grow it by a tenth of the stream's records each time).
#include <catch2/catch.hpp>

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "soak/soak_support.hpp"
#include "support.hpp"

namespace {

constexpr long long kCapGrowthBound = 64ll << 20;
constexpr double kPurgeFlatBound = 1.10;
constexpr std::uint64_t kKeep = 100'000;
constexpr std::size_t kBatch = 10'000;

// MPIPLY_SOAK_TASKS, rounded down to whole batches (at least 10 batches).
std::size_t stream_tasks() {
  std::size_t n = 2'000'000;
  if (const char* v = std::getenv("MPIPLY_SOAK_TASKS"); v && *v) n = std::strtoull(v, nullptr, 10);
  return std::max<std::size_t>(n / kBatch, 10) * kBatch;
}

int soak_keep_noop(int x) { return x; }

// One batch: a chunksize-1 map, its values checked, its handle dropped. Returns wrong values.
std::size_t batch(mpiply::LoadBalancedView& lv, const std::vector<int>& xs) {
  std::vector<int> got = lv.map_async(soak_keep_noop, xs, {.chunksize = 1}).get(mpiply::Seconds(600));
  std::size_t wrong = got.size() != xs.size();
  for (std::size_t i = 0; i < got.size() && i < xs.size(); ++i) wrong += got[i] != xs[i];
  return wrong;
}

}  // namespace

MPIPLY_REGISTER(soak_keep_noop);

TEST_CASE("a stream of chunksize-1 tasks under the hub's cap: rank 0's growth stays bounded",
          "[soak][keep]") {
  const std::size_t n = stream_tasks();
  long long before = 0, peak = 0;
  std::size_t wrong = 0, kept = 0;
  mpiply::RunOptions o;
  o.hub_keep = kKeep;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<int> xs(kBatch);
    std::iota(xs.begin(), xs.end(), 0);
    malloc_trim(0);
    before = mpiply_test::vm_bytes("VmRSS:");
    REQUIRE(before > 0);
    for (std::size_t done = 0; done < n; done += kBatch) wrong += batch(lv, xs);
    peak = mpiply_test::vm_bytes("VmHWM:");
    kept = c.hub_history().size();
    return 0;
  });
  REQUIRE(rc == 0);
  if (mpiply_test::world_rank() != 0) return;
  CHECK(wrong == 0);
  CHECK(kept <= kKeep + kKeep / 16 + kBatch);
  double growth_mb = double(peak - before) / (1 << 20);
  std::printf("soak keep: %zu tasks, hub_keep %llu: rank 0 peak growth %.1f MiB (bound %lld), "
              "%zu records kept at the end\n",
              n, static_cast<unsigned long long>(kKeep), growth_mb, kCapGrowthBound >> 20, kept);
  if (mpiply_test::kAsan) {
    WARN("memory bound not checked under AddressSanitizer");
    return;
  }
  CHECK(peak - before <= kCapGrowthBound);
}

TEST_CASE("a stream of chunksize-1 tasks purged every tenth: rank 0 stays flat",
          "[soak][keep][purge]") {
  const std::size_t n = stream_tasks(), cycle = n / 10;
  // Rank 0's resident memory just before each purge (every record of the cycle kept, printed)
  // and just after it (what the purge left, checked).
  std::vector<long long> before_purge, after_purge;
  std::size_t wrong = 0;
  int rc = mpiply::run(1, mpiply_test::test_argv(), [&](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<int> xs(kBatch);
    std::iota(xs.begin(), xs.end(), 0);
    for (std::size_t done = 0; done < n;) {
      wrong += batch(lv, xs);
      done += kBatch;
      if (done % cycle < kBatch) {
        malloc_trim(0);
        before_purge.push_back(mpiply_test::vm_bytes("VmRSS:"));
        c.purge_everything();
        after_purge.push_back(mpiply_test::vm_bytes("VmRSS:"));
      }
    }
    return 0;
  });
  REQUIRE(rc == 0);
  if (mpiply_test::world_rank() != 0) return;
  CHECK(wrong == 0);
  REQUIRE(after_purge.size() >= 10);
  auto mib = [](long long b) { return double(b) / (1 << 20); };
  std::printf("soak purge: %zu tasks, purge_everything every %zu; rank 0 RSS (MiB) before / "
              "after each purge:",
              n, cycle);
  for (std::size_t i = 0; i < after_purge.size(); ++i)
    std::printf(" %.1f/%.1f", mib(before_purge[i]), mib(after_purge[i]));
  // After a purge the block being filled stays, resident as far as it was filled: up to a block
  // (6 MiB) from one purge to the next. So the later half of the readings, on average, is held
  // to within 10% of the earlier half: records not given back would add a tenth of the
  // stream's records at every purge.
  const std::size_t half = after_purge.size() / 2;
  auto mean = [](auto b, auto e) {
    double sum = 0;
    for (auto it = b; it != e; ++it) sum += double(*it);
    return sum / double(e - b);
  };
  double ratio = mean(after_purge.end() - static_cast<long>(half), after_purge.end()) /
                 mean(after_purge.begin(), after_purge.begin() + static_cast<long>(half));
  std::printf("\nsoak purge: after the last %zu purges / after the first %zu, on average: %.3f "
              "(bound %.2f)\n",
              half, half, ratio, kPurgeFlatBound);
  if (mpiply_test::kAsan) {
    WARN("memory bound not checked under AddressSanitizer");
    return;
  }
  CHECK(ratio <= kPurgeFlatBound);
}
