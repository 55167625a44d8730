// Rank 0's scheduler placing tasks with resource requests (cores, GPUs, memory, named
// resources), without MPI: a task goes only where its amounts are free, holds them until it
// finishes (or raises and is retried), gets GPU ids no other running task holds, and a request
// no engine can hold fails at once. Priorities order the ready tasks; the first task that fits
// nowhere holds one engine so that smaller tasks behind it cannot keep it waiting.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <set>
#include <utility>

#include "scheduler_recorder.hpp"

using namespace sched_unit;
using mpiply::EngineResources;

namespace {

ResourceRequest cores(unsigned n) {
  ResourceRequest r;
  r.cores = n;
  return r;
}
ResourceRequest gpus(unsigned n) {
  ResourceRequest r;
  r.gpus = n;
  return r;
}
TaskFlags prio(int p) {
  TaskFlags f;
  f.priority = p;
  return f;
}
// Engines with these cores each, hwm 16 (room is never what holds a task back here).
struct CoreEngines : Recorder {
  explicit CoreEngines(std::vector<unsigned> per_engine)
      : Recorder(Scheme::leastload, per_engine.size(), 16) {
    for (std::size_t e = 0; e < per_engine.size(); ++e)
      sched.set_resources(static_cast<int>(e), EngineResources{.cores = per_engine[e]});
  }
};
int placed_on(const Recorder& r, MsgId id) {
  for (auto [m, e] : r.placed)
    if (m == id) return e;
  return -1;
}
// The cores held on engine e by placed, unfinished tasks.
unsigned held(Recorder& r, int e) {
  unsigned n = 0;
  for (auto& [id, g] : r.grants)
    if (r.status[id].status == TaskStatus::sent && r.status[id].engine == e) n += g.cores;
  return n;
}

}  // namespace

TEST_CASE("tasks go only where their cores are free and give them back when they end",
          "[scheduler_resources]") {
  CoreEngines r({4, 2});
  TaskFlags f;
  MsgId a = r.submit(1, f, {}, cores(3));
  MsgId b = r.submit(1, f, {}, cores(1));
  // Best fit: the 1-core task takes the last core of engine 0, not one of engine 1's two.
  CHECK(placed_on(r, a) == 0);
  CHECK(placed_on(r, b) == 0);
  CHECK(r.grants[a].cores == 3);
  MsgId d = r.submit(1, f, {}, cores(2));
  MsgId c = r.submit(1, f, {}, cores(2));  // no two cores free anywhere: waits
  CHECK(placed_on(r, d) == 1);
  CHECK(placed_on(r, c) == -1);
  CHECK(held(r, 0) == 4);
  CHECK(held(r, 1) == 2);
  r.finish(d, true);
  CHECK(placed_on(r, c) == 1);  // engine 1's two cores came back
  CHECK(r.grants[c].cores == 2);
  r.finish(a, true);
  r.finish(b, true);
  r.finish(c, true);
  CHECK(r.sched.resources().free_cores(0) == 4);
  CHECK(r.sched.resources().free_cores(1) == 2);
  CHECK_FALSE(r.sched.busy());
}

TEST_CASE("GPU tasks get ids no running task holds, and a freed id goes to the next",
          "[scheduler_resources]") {
  Recorder r(Scheme::leastload, 2, 16);
  r.sched.set_resources(0, EngineResources{.cores = 8, .gpus = {"0", "1"}});
  r.sched.set_resources(1, EngineResources{.cores = 8, .gpus = {"2", "3", "4"}});
  TaskFlags f;
  MsgId first = r.submit(6, f, {}, gpus(1));
  REQUIRE(r.placed.size() == 5);  // five GPUs in all
  std::set<std::pair<int, std::uint32_t>> taken;
  for (auto [id, e] : r.placed) {
    std::uint32_t m = r.grants[id].gpu_mask;
    CHECK(std::popcount(m) == 1);
    CHECK(taken.insert({e, m}).second);  // never two tasks on one GPU
    CHECK(m < (e == 0 ? 4u : 8u));       // a GPU the engine holds
  }
  MsgId waiting = first + 5;
  CHECK(placed_on(r, waiting) == -1);
  MsgId done = r.placed[2].first;
  int e = r.placed[2].second;
  std::uint32_t freed = r.grants[done].gpu_mask;
  r.finish(done, true);
  CHECK(placed_on(r, waiting) == e);
  CHECK(r.grants[waiting].gpu_mask == freed);
  // A two-GPU task takes two distinct ids of one engine.
  for (MsgId id = first; id < first + 6; ++id)
    if (r.status[id].status == TaskStatus::sent) r.finish(id, true);
  MsgId two = r.submit(1, f, {}, gpus(2));
  CHECK(std::popcount(r.grants[two].gpu_mask) == 2);
}

TEST_CASE("memory and named resources are counted like cores", "[scheduler_resources]") {
  Recorder r(Scheme::leastload, 3, 16);
  r.sched.set_resources(0, EngineResources{.cores = 4, .memory = 8ull << 30});
  r.sched.set_resources(1, EngineResources{.cores = 4, .memory = 16ull << 30,
                                           .named = {{"license", 1}}});
  r.sched.set_resources(2, EngineResources{.cores = 4});
  TaskFlags f;
  ResourceRequest lic;
  lic.named = {{"license", 1}};
  MsgId l = r.submit(3, f, {}, lic);  // one license in the job: one at a time, on engine 1
  REQUIRE(r.placed.size() == 1);
  CHECK(placed_on(r, l) == 1);
  r.finish(l, true);
  CHECK(placed_on(r, l + 1) == 1);
  r.finish(l + 1, true);
  r.finish(l + 2, true);
  ResourceRequest mem;
  mem.memory_bytes = 12ull << 30;  // fits engine 1 only
  MsgId m = r.submit(2, f, {}, mem);
  CHECK(placed_on(r, m) == 1);
  CHECK(placed_on(r, m + 1) == -1);
  r.finish(m, true);
  CHECK(placed_on(r, m + 1) == 1);
}

TEST_CASE("a request no engine can ever hold fails at once, naming the amount",
          "[scheduler_resources]") {
  CoreEngines r({4, 4});
  TaskFlags f;
  MsgId g = r.submit(2, f, {}, gpus(1));
  REQUIRE(r.failed.count(g) == 1);
  CHECK(r.failed[g].first == ErrorKind::impossible_dependency);
  CHECK_THAT(r.failed[g].second, Catch::Contains("1 GPUs asked, the most an engine holds is 0"));
  MsgId c = r.submit(1, f, {}, cores(5));
  CHECK_THAT(r.failed[c].second, Catch::Contains("5 cores asked, the most an engine holds is 4"));
  // Each amount fits some engine, but no one engine holds both.
  ResourceRequest both = cores(4);
  both.gpus = 1;
  r.sched.set_resources(1, EngineResources{.cores = 2, .gpus = {"0"}});
  MsgId b = r.submit(1, f, {}, both);
  CHECK_THAT(r.failed[b].second, Catch::Contains("no single engine holds all of it"));
  ResourceRequest named;
  named.named = {{"license", 1}};
  CHECK_FALSE(r.sched.never_fits(named, {}).empty());
  CHECK(r.sched.never_fits(cores(4), {}).empty());
  CHECK_FALSE(r.sched.busy());
}

TEST_CASE("higher priority goes first among tasks waiting for room", "[scheduler_resources]") {
  CoreEngines r({1});
  MsgId running = r.submit(1, prio(0), {}, cores(1));
  MsgId low = r.submit(2, prio(0), {}, cores(1));
  MsgId high = r.submit(1, prio(5), {}, cores(1));
  MsgId mid = r.submit(1, prio(2), {}, cores(1));
  REQUIRE(r.placed.size() == 1);
  r.finish(running, true);
  CHECK(r.placed.back().first == high);
  r.finish(high, true);
  CHECK(r.placed.back().first == mid);
  r.finish(mid, true);
  CHECK(r.placed.back().first == low);  // equal priorities keep their order
  r.finish(low, true);
  CHECK(r.placed.back().first == low + 1);
}

TEST_CASE("smaller tasks backfill, but not on the engine held for a large task waiting",
          "[scheduler_resources]") {
  CoreEngines r({4, 4});
  TaskFlags f;
  MsgId a = r.submit(1, f, {}, cores(2));  // engine 0: 2 of 4
  MsgId b = r.submit(1, f, {}, cores(3));  // engine 1: 3 of 4
  REQUIRE(placed_on(r, a) == 0);
  REQUIRE(placed_on(r, b) == 1);
  MsgId big = r.submit(1, f, {}, cores(4));  // fits nowhere now: holds engine 0 (most free)
  CHECK(placed_on(r, big) == -1);
  CHECK(r.sched.reserved_engine() == 0);
  // Behind it, one-core tasks fill engine 1's free core, never engine 0's two.
  MsgId small = r.submit(3, f, {}, cores(1));
  CHECK(placed_on(r, small) == 1);
  CHECK(placed_on(r, small + 1) == -1);
  CHECK(held(r, 0) == 2);
  // A task ahead of it (higher priority) may still take engine 0.
  MsgId urgent = r.submit(1, prio(1), {}, cores(1));
  CHECK(placed_on(r, urgent) == 0);
  r.finish(urgent, true);
  CHECK(placed_on(r, small + 1) == -1);
  // Engine 0 drains: the large task goes there before the small ones waiting.
  r.finish(a, true);
  CHECK(placed_on(r, big) == 0);
  r.finish(small, true);
  CHECK(placed_on(r, small + 1) == 1);
}

TEST_CASE("a stream of small tasks never starves a large one", "[scheduler_resources]") {
  // One 4-core engine kept busy by 1-core tasks that arrive as others end: without the
  // reservation the 4-core task would never see four cores free at once.
  CoreEngines r({4});
  TaskFlags f;
  std::vector<MsgId> running, waiting;
  for (int i = 0; i < 4; ++i) running.push_back(r.submit(1, f, {}, cores(1)));
  MsgId big = r.submit(1, f, {}, cores(4));
  int rounds = 0;
  while (placed_on(r, big) < 0 && rounds < 100) {
    waiting.push_back(r.submit(1, f, {}, cores(1)));  // a new small task for each one that ends
    r.finish(running.front(), true);
    running.erase(running.begin());
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (placed_on(r, *it) >= 0) {
        running.push_back(*it);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    ++rounds;
  }
  CHECK(placed_on(r, big) == 0);
  CHECK(rounds == 4);  // once the four tasks running when it came have ended
}

TEST_CASE("a task that raised gives its resources back before it runs again",
          "[scheduler_resources]") {
  Recorder r(Scheme::leastload, 2, 16);
  r.sched.set_resources(0, EngineResources{.cores = 2, .gpus = {"0"}});
  r.sched.set_resources(1, EngineResources{.cores = 2, .gpus = {"1"}});
  TaskFlags f;
  f.retries = 1;
  MsgId t = r.submit(1, f, {}, gpus(1));
  int first = placed_on(r, t);
  r.finish(t, false);
  REQUIRE(r.retried == std::vector<MsgId>{t});
  CHECK(r.status[t].engine == 1 - first);  // never the engine it failed on
  CHECK(r.sched.resources().free_gpus(first) == 1);
  CHECK(r.sched.resources().free_gpus(1 - first) == 0);
  r.finish(t, true);
  CHECK(r.sched.resources().free_gpus(0) == 1);
  CHECK(r.sched.resources().free_gpus(1) == 1);
}

// Not a test (hidden: ctest never runs it): the scheduler's cost per placement of a task with a
// resource request over 64 engines, for docs/resources.md. Run it by name:
//   build/tests/test_scheduler_resources "[.bench]"
TEST_CASE("bench: placements with resource requests on 64 engines", "[.bench]") {
  constexpr int kEngines = 64, kTasks = 200000;
  Recorder r(Scheme::leastload, kEngines, 8);
  for (int e = 0; e < kEngines; ++e)
    r.sched.set_resources(e, EngineResources{.cores = 8, .gpus = {"0", "1", "2", "3"}});
  TaskFlags f;
  ResourceRequest req = cores(2);
  req.gpus = 1;
  MsgId first = r.submit(kTasks, f, {}, req);  // 4 per engine fit at once
  auto t0 = std::chrono::steady_clock::now();
  for (MsgId id = first; id < first + kTasks; ++id) r.finish(id, true);  // each frees one place
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.placed.size() == static_cast<std::size_t>(kTasks));
  std::printf("placement with a request (2 cores, 1 GPU) on %d engines, with the recording "
              "sink's own work: %.0f ns per task (place + finish)\n",
              kEngines, 1e9 * s / kTasks);
}
