// Engines running several tasks at once (RunOptions::engine_threads / MPIPLY_ENGINE_THREADS):
// two tasks on one engine that can only finish together, which thread ran each, a long
// chunksize-1 map in order, the namespace shared by concurrent tasks, and the setting's checks.
// With one rank there are no engines (tasks run inline, one at a time): the cases that need two
// tasks at once are skipped there and the rest must still hold.
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::RestoreEnv;

namespace {

// Two tasks with the same key meet here: each arrives, then waits (at most 30 s) for the other.
// Only an engine that runs both at once lets them meet; a one-task-at-a-time engine would run
// the first until its wait gave up, so a failure shows as false, not as a hang.
std::mutex g_meet_mu;
std::condition_variable g_meet_cv;
std::map<int, int> g_arrived;

bool meet(int key) {
  std::unique_lock lk(g_meet_mu);
  ++g_arrived[key];
  g_meet_cv.notify_all();
  return g_meet_cv.wait_for(lk, std::chrono::seconds(30), [&] { return g_arrived[key] >= 2; });
}

long twice(long x) { return 2 * x; }
int engine_id() { return mpiply::this_engine().id(); }
double sum_of(std::string name) {
  double t = 0;
  for (double x : mpiply::this_engine().get<std::vector<double>>(name)) t += x;
  return t;
}

// Sets a name of its own and reads it back, and reads the shared pushed "base": many tasks do
// this at once on each engine.
long own_name(long i) {
  auto& eng = mpiply::this_engine();
  std::string name = "own" + std::to_string(i);
  eng.set(name, i * 3);
  long mine = eng.get<long>(name);
  long base = eng.get<long>("base");
  eng.erase(name);
  return mine + base;
}

}  // namespace

MPIPLY_REGISTER(meet);
MPIPLY_REGISTER(twice);
MPIPLY_REGISTER(own_name);
MPIPLY_REGISTER(engine_id);
MPIPLY_REGISTER(sum_of);

namespace {

constexpr mpiply::Seconds kBound{120};
char arg0[] = "test_engine_threads";
char* argv[] = {arg0, nullptr};

// RunOptions with only these set (designated initializers would warn about the others).
mpiply::RunOptions with_threads(int threads, std::optional<int> hwm = std::nullopt) {
  mpiply::RunOptions o;
  o.engine_threads = threads;
  o.hwm = hwm;
  return o;
}

}  // namespace

TEST_CASE("two tasks on one engine run at once, on different threads", "[threads]") {
  int rc = mpiply::run(1, argv, with_threads(2, 1), [](mpiply::Client& c) {
    // hwm 1 is raised to the thread count, or the second task could not reach the engine.
    CHECK(c.hwm() == 2);
    if (c.inline_mode()) {  // one task at a time on rank 0; thread 0
      auto r = c[0].apply_async(twice, 21L);
      CHECK(r.get(kBound) == 42);
      CHECK(r.metadata().at(0).thread == 0);
      return 0;
    }
    int key = 0;
    for (int e : c.ids()) {
      auto view = c[e];
      auto a = view.apply_async(meet, key);
      auto b = view.apply_async(meet, key);
      ++key;
      INFO("engine " << e);
      CHECK(a.get(kBound));
      CHECK(b.get(kBound));
      auto ma = a.metadata().at(0), mb = b.metadata().at(0);
      CHECK(ma.engine_id == e);
      CHECK(mb.engine_id == e);
      CHECK(ma.thread != mb.thread);
      CHECK(ma.thread >= 0);
      CHECK(ma.thread < 2);
      CHECK(mb.thread >= 0);
      CHECK(mb.thread < 2);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("one thread per engine reports thread 0", "[threads]") {
  int rc = mpiply::run(1, argv, with_threads(1), [](mpiply::Client& c) {
    auto r = c.load_balanced_view().map_async(twice, std::vector<long>{1, 2, 3, 4, 5, 6},
                                              {.chunksize = 1});
    CHECK(r.get(kBound) == std::vector<long>{2, 4, 6, 8, 10, 12});
    for (const auto& m : r.metadata()) CHECK(m.thread == 0);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a chunksize-1 map of 10^5 items over threaded engines comes back in order",
          "[threads]") {
  for (int threads : {2, 4}) {
    int rc = mpiply::run(1, argv, with_threads(threads), [&](mpiply::Client& c) {
      std::vector<long> xs(100'000);
      for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i) - 777;
      auto amr = c.load_balanced_view().map_async(twice, xs, {.chunksize = 1});
      std::vector<long> got;
      got.reserve(xs.size());
      for (long y : amr) got.push_back(y);
      REQUIRE(got.size() == xs.size());
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) wrong += got[i] != 2 * xs[i];
      INFO("threads " << threads);
      CHECK(wrong == 0);
      std::set<int> used;
      for (const auto& m : amr.metadata()) {
        CHECK(m.thread >= 0);
        CHECK(m.thread < (c.inline_mode() ? 1 : threads));
        used.insert(m.thread);
      }
      CHECK(!used.empty());
      return 0;
    });
    REQUIRE(rc == 0);
  }
}

TEST_CASE("concurrent tasks share their engine's namespace; a push is ordered with tasks",
          "[threads][namespace]") {
  int rc = mpiply::run(1, argv, with_threads(4), [](mpiply::Client& c) {
    auto dv = c.direct_view();
    auto lb = c.load_balanced_view();
    std::vector<long> xs(2'000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
    for (long base : {10L, 1000L, -5L}) {
      // Tasks sent before the push finish with the old base; those after see the new one.
      dv.push({{"base", base}});
      auto amr = lb.map_async(own_name, xs, {.chunksize = 1});
      auto got = amr.get(kBound);
      REQUIRE(got.size() == xs.size());
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) wrong += got[i] != 3 * xs[i] + base;
      INFO("base " << base);
      CHECK(wrong == 0);
      CHECK(dv.pull<long>("base") == std::vector<long>(dv.targets().size(), base));
    }
    // Every task erased its own name: only "base" is left on each engine.
    for (int e : c.ids()) {
      dv.push({{"probe", 1L}});
      auto names = c[e].pull<long>("probe");
      CHECK(names == 1L);
    }
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("engine_threads: bad RunOptions stop every rank; SLURM_CPUS_PER_TASK is the default",
          "[threads][settings]") {
  for (int bad : {0, -1, 1025}) {
    bool ran = false;
    int rc = mpiply::run(1, argv, with_threads(bad), [&](mpiply::Client&) { ran = true; });
    CHECK(rc == mpiply::kExitStartupFailed);
    CHECK_FALSE(ran);
  }
  RestoreEnv slurm("SLURM_CPUS_PER_TASK"), ours("MPIPLY_ENGINE_THREADS"), hwm("MPIPLY_HWM");
  unsetenv("MPIPLY_HWM");
  unsetenv("MPIPLY_ENGINE_THREADS");
  // Every rank runs this code, so every rank sees the same environment.
  setenv("SLURM_CPUS_PER_TASK", "6", 1);
  int rc = mpiply::run(1, argv, [](mpiply::Client& c) {
    CHECK(c.hwm() == 6);  // hwm 4 raised to the 6 threads
    CHECK(c.load_balanced_view().apply(twice, 4L) == 8);
    return 0;
  });
  CHECK(rc == 0);
  // Ours wins over Slurm's; a Slurm value we cannot use is ignored, not an error.
  setenv("MPIPLY_ENGINE_THREADS", "2", 1);
  rc = mpiply::run(1, argv, [](mpiply::Client& c) {
    CHECK(c.hwm() == 4);
    return 0;
  });
  CHECK(rc == 0);
  unsetenv("MPIPLY_ENGINE_THREADS");
  setenv("SLURM_CPUS_PER_TASK", "lots", 1);
  rc = mpiply::run(1, argv, [](mpiply::Client& c) {
    CHECK(c.hwm() == 4);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("rank 0 runs tasks too, as the last engine", "[threads][client_runs_tasks]") {
  int ranks = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  for (int threads : {1, 2}) {
    mpiply::RunOptions o = with_threads(threads);
    o.client_runs_tasks = true;
    int rc = mpiply::run(1, argv, o, [&](mpiply::Client& c) {
      INFO("threads " << threads);
      // One rank: the inline engine 0 already is rank 0. More: ranks 1..N-1 are engines
      // 0..N-2 and rank 0 is engine N-1.
      REQUIRE(c.ids().size() == static_cast<std::size_t>(ranks));
      int last = ranks - 1;
      auto r = c[last].apply_async(engine_id);
      CHECK(r.get(kBound) == last);
      auto md = r.metadata().at(0);
      CHECK(md.engine_id == last);
      CHECK(md.rank == 0);
      CHECK(md.pid == static_cast<long>(getpid()));
      for (int e = 0; e + 1 < ranks; ++e) CHECK(c[e].apply(engine_id) == e);
      // Load-balanced work reaches every engine, rank 0's too, and comes back right.
      std::vector<long> xs(20'000);
      for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
      auto amr = c.load_balanced_view().map_async(twice, xs, {.chunksize = 1});
      auto got = amr.get(kBound);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) wrong += got[i] != 2 * xs[i];
      CHECK(wrong == 0);
      std::set<int> engines;
      for (const auto& m : amr.metadata()) engines.insert(m.engine_id);
      CHECK(engines.count(last) == 1);
      // A large push (segment path) lands on rank 0's engine as on the others.
      std::vector<double> big(300'000, 0.5);
      auto dv = c.direct_view();
      dv.push({{"big", big}});
      auto sums = dv.apply(sum_of, std::string("big"));
      CHECK(sums == std::vector<double>(c.ids().size(), 150'000.0));
      CHECK(c[last].pull<std::vector<double>>("big") == big);
      dv.clear();
      return 0;
    });
    REQUIRE(rc == 0);
  }
}
