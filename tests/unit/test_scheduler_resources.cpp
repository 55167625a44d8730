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
#include <random>
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
  CHECK(r.sched.placer().claims().pool().free_cores(0) == 4);
  CHECK(r.sched.placer().claims().pool().free_cores(1) == 2);
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
  CHECK_FALSE(r.sched.placer().claims().never_fits(named, {}).empty());
  CHECK(r.sched.placer().claims().never_fits(cores(4), {}).empty());
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
  CHECK(r.sched.placer().claims().reserved_engine() == 0);
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
  CHECK(r.sched.placer().claims().pool().free_gpus(first) == 1);
  CHECK(r.sched.placer().claims().pool().free_gpus(1 - first) == 0);
  r.finish(t, true);
  CHECK(r.sched.placer().claims().pool().free_gpus(0) == 1);
  CHECK(r.sched.placer().claims().pool().free_gpus(1) == 1);
}

// Not a test (hidden: ctest never runs it): the scheduler's cost per placement of a task with a
// resource request over 64 engines, for docs/resources.md. Run it by name:
//   build/tests/unit/test_scheduler_resources "[.bench]"
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

// Teams (src/scheduling/team_placer.cpp): a task on k engines at once.
namespace {
ResourceRequest team(unsigned k) {
  ResourceRequest r;
  r.engines = k;
  return r;
}
// n teams of k engines (n * k tasks, member i of team j is task j * k + i).
MsgId submit_teams(Recorder& r, std::uint32_t n, unsigned k, TaskFlags f = {}) {
  return r.submit(n * k, f, {}, team(k));
}
}  // namespace

TEST_CASE("teams of several sizes run side by side on disjoint idle engines, in id order",
          "[scheduler_resources][teams]") {
  Recorder r(Scheme::leastload, 8, 16);
  MsgId a = submit_teams(r, 1, 3);
  MsgId b = submit_teams(r, 1, 2);
  MsgId c = r.submit(3, prio(0));  // one-engine tasks take what is left
  REQUIRE(r.teams.size() == 2);
  CHECK(r.teams[0] == std::pair<MsgId, std::vector<int>>{a, {0, 1, 2}});
  CHECK(r.teams[1] == std::pair<MsgId, std::vector<int>>{b, {3, 4}});
  std::set<int> singles;
  for (MsgId id = c; id < c + 3; ++id) singles.insert(r.engine_of(id));
  CHECK(singles == std::set<int>{5, 6, 7});
  for (MsgId id = a; id < c + 3; ++id) r.finish(id, true);
  CHECK_FALSE(r.sched.busy());
  CHECK(r.engines_tried(a + 1) == std::vector<int>{1});
}

TEST_CASE("a waiting team holds engines as they go idle; one-engine tasks backfill the others",
          "[scheduler_resources][teams]") {
  Recorder r(Scheme::leastload, 4, 16);
  MsgId busy = r.submit(4, prio(0));  // one task on each engine
  MsgId t = submit_teams(r, 1, 3);
  CHECK(r.teams.empty());
  CHECK(r.sched.placer().teams().holder() == t);
  int first_idle = r.engine_of(busy);
  r.finish(busy, true);
  CHECK(r.sched.placer().teams().held_engines() == std::vector<int>{first_idle});
  // A stream of one-engine tasks never lands on the held engine.
  MsgId more = r.submit(6, prio(0));
  for (MsgId id = more; id < more + 6; ++id) CHECK(r.engine_of(id) != first_idle);
  // As the others drain, the team gets them; it is placed once it holds three.
  std::vector<MsgId> running;
  for (MsgId id = busy + 1; id < busy + 4; ++id) running.push_back(id);
  for (MsgId id = more; id < more + 6; ++id) running.push_back(id);
  std::sort(running.begin(), running.end(),
            [&](MsgId x, MsgId y) { return r.engine_of(x) < r.engine_of(y); });
  for (MsgId id : running)
    if (r.teams.empty()) r.finish(id, true);
  REQUIRE(r.teams.size() == 1);
  CHECK(r.teams[0].second.size() == 3);
  CHECK(std::is_sorted(r.teams[0].second.begin(), r.teams[0].second.end()));
  CHECK(r.sched.placer().teams().holder() == 0);
}

TEST_CASE("many teams of mixed sizes on 8 engines all complete, in any finishing order",
          "[scheduler_resources][teams]") {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Recorder r(Scheme::leastload, 8, 4);
    std::mt19937 rng(seed);
    std::vector<std::pair<MsgId, unsigned>> subs;  // first id, tasks
    for (int i = 0; i < 30; ++i) {
      unsigned k = 1 + rng() % 8;
      TaskFlags f;
      f.priority = static_cast<int>(rng() % 3);
      if (k == 1)
        subs.emplace_back(r.submit(3, f, {}, cores(1)), 3);
      else
        subs.emplace_back(submit_teams(r, 2, k, f), 2 * k);
    }
    std::size_t done = 0, total = 0;
    for (auto& s : subs) total += s.second;
    for (std::size_t step = 0; step < 10 * total && done < total; ++step) {
      std::vector<MsgId> sent;
      for (auto& [id, o] : r.status)
        if (o.status == TaskStatus::sent) sent.push_back(id);
      REQUIRE_FALSE(sent.empty());  // something always runs while tasks wait: no deadlock
      r.finish(sent[rng() % sent.size()], true);
      ++done;
    }
    CHECK(done == total);
    CHECK(r.failed.empty());
    CHECK_FALSE(r.sched.busy());
  }
}

TEST_CASE("a team larger than the engines it may use fails at once, naming both sizes",
          "[scheduler_resources][teams]") {
  Recorder r(Scheme::leastload, 4, 16);
  MsgId t = submit_teams(r, 1, 5);
  REQUIRE(r.failed.count(t) == 1);
  CHECK(r.failed[t].first == ErrorKind::impossible_dependency);
  CHECK_THAT(r.failed[t].second, Catch::Contains("team of 5 engines") && Catch::Contains("only 4"));
  CHECK(r.failed.count(t + 4) == 1);
}

TEST_CASE("a long queue of waiting one-task submissions costs each result a bounded pass, "
          "and they still run in order",
          "[scheduler_resources]") {
  // One engine with 4 cores: 4-core tasks run one at a time, the rest wait (as a loop of
  // apply_async with {.cores = 4} leaves them). Every dispatch used to try every waiting run,
  // asking each one's outcome: 2,000 waiting tasks made each result cost 2,000 questions.
  constexpr int kTasks = 2000;
  CoreEngines r({4});
  TaskFlags f;
  std::vector<MsgId> ids;
  for (int i = 0; i < kTasks; ++i) ids.push_back(r.submit(1, f, {}, cores(4)));
  REQUIRE(r.placed.size() == 1);
  std::size_t most = 0;
  for (int i = 0; i < kTasks; ++i) {
    REQUIRE(r.placed.size() == static_cast<std::size_t>(i + 1));
    CHECK(r.placed.back().first == ids[static_cast<std::size_t>(i)]);  // in submission order
    std::size_t before = r.outcome_calls;
    r.finish(ids[static_cast<std::size_t>(i)], true);
    most = std::max(most, r.outcome_calls - before);
  }
  CHECK(r.placed.size() == static_cast<std::size_t>(kTasks));
  // The pass tries at most 64 runs (ReadyQueue::kBackfillWindow) and a few questions besides.
  CHECK(most <= 100);
}
