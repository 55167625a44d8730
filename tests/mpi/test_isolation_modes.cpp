// Isolation (docs/isolation.md), continued: References and pushed values reach isolated tasks
// and what they set is dropped; a megabyte travels both ways through the shared memory; and the
// ways to turn it on: threaded engines (a worker process per thread), rank 0's own engine slot,
// MPIPLY_ISOLATE (with TaskFlags::isolate = false to opt out), and a bad time limit refused on
// every rank. Crashes, time limits and signals: test_isolation.cpp.
#include "isolation_support.hpp"

using mpiply_test::run_client;
using namespace isolation_test;

TEST_CASE("isolated tasks read References and pushed values; what they set is dropped",
          "[isolation][namespace]") {
  int rc = run_client([](mpiply::Client& c) {
    auto dv = c.direct_view();
    auto iso = dv.with_flags(isolated());
    for (long base : {10L, 1000L}) {
      dv.push({{"base", base}});  // the worker forked before this push is replaced
      INFO("base " << base);
      CHECK(iso.apply_sync(add_to, mpiply::Reference<long>("base"), 5L) ==
            std::vector<long>(dv.targets().size(), base + 5));
      auto amr = c.load_balanced_view().with_flags(isolated()).map_async(
          add_to, mpiply::Reference<long>("base"), std::vector<long>{1, 2, 3, 4, 5, 6, 7});
      CHECK(amr.get(kBound) == std::vector<long>{base + 1, base + 2, base + 3, base + 4,
                                                 base + 5, base + 6, base + 7});
    }
    // A value an isolated task sets lives and dies with its worker: neither the engine nor the
    // next isolated task sees it.
    CHECK(iso.apply_sync(set_value, 5L) == std::vector<long>(dv.targets().size(), 5));
    for (bool b : dv.apply_sync(has_value, std::string("set_by_task"))) CHECK_FALSE(b);
    for (bool b : iso.apply_sync(has_value, std::string("set_by_task"))) CHECK_FALSE(b);
    // One a task in the engine sets is seen by the isolated tasks after it.
    CHECK(dv.apply_sync(set_value, 6L) == std::vector<long>(dv.targets().size(), 6));
    for (bool b : iso.apply_sync(has_value, std::string("set_by_task"))) CHECK(b);
    // A clear reaches isolated tasks too.
    dv.clear();
    for (bool b : iso.apply_sync(has_value, std::string("base"))) CHECK_FALSE(b);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a megabyte argument and result travel through the shared memory", "[isolation]") {
  int rc = run_client([](mpiply::Client& c) {
    for (std::size_t mib : {1, 9}) {
      std::vector<double> v(mib * (std::size_t(1) << 20) / sizeof(double));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i) * 0.5;
      std::vector<double> want(v.rbegin(), v.rend());
      for (int e : c.ids()) {
        INFO(mib << " MiB, engine " << e);
        CHECK(c[e].with_flags(isolated()).apply_async(reversed, v).get(kBound) == want);
      }
      // And after the region grew, small messages still work.
      CHECK(c[0].with_flags(isolated()).apply_async(square, 3L).get(kBound) == 9);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}


TEST_CASE("isolation on threaded engines: one worker process per thread", "[isolation][threads]") {
  int rc = mpiply::run(1, argv, isolate_all(3), [](mpiply::Client& c) {
    std::vector<long> xs(200);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
    auto amr = c.load_balanced_view().map_async(square_or_die, xs, {.chunksize = 1});
    REQUIRE_THROWS_AS(amr.get(kBound), mpiply::CompositeError);
    auto values = amr.values_or_empty(kBound);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      INFO("item " << i);
      if (i == 13)
        CHECK_FALSE(values[i].has_value());
      else
        CHECK(values[i] == xs[i] * xs[i]);
    }
    // Tasks ran in worker processes, at most one per engine thread, never in an engine.
    auto pids = c.load_balanced_view().map_async(pid_of, xs, {.chunksize = 1});
    std::set<long> workers, engines;
    auto got = pids.get(kBound);
    workers.insert(got.begin(), got.end());
    for (const auto& m : pids.metadata()) engines.insert(m.pid);
    CHECK(workers.size() <= engines.size() * (c.inline_mode() ? 1 : 3));
    for (long w : workers) CHECK(engines.count(w) == 0);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("isolation: bad RunOptions::time_limit stops every rank", "[isolation][settings]") {
  for (double bad : {-1.0, 5e6}) {
    mpiply::RunOptions o;
    o.time_limit = mpiply::Seconds(bad);
    bool ran = false;
    int rc = mpiply::run(1, argv, o, [&](mpiply::Client&) { ran = true; });
    CHECK(rc == mpiply::kExitStartupFailed);
    CHECK_FALSE(ran);
  }
}

TEST_CASE("isolation on rank 0's own engine slot (client_runs_tasks)", "[isolation]") {
  mpiply::RunOptions o;
  o.client_runs_tasks = true;
  int rc = mpiply::run(1, argv, o, [](mpiply::Client& c) {
    int last = c.ids().back();  // rank 0's slot when there are engine ranks
    auto view = c[last].with_flags(isolated());
    std::string what = error_of<mpiply::TaskCrashed>(view.apply_async(die, 0));
    CHECK_THAT(what, Catch::Contains("SIGSEGV"));
    CHECK(view.apply_async(square, 6L).get(kBound) == 36);
    CHECK(view.apply_async(my_pid).get(kBound) != static_cast<long>(getpid()));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("MPIPLY_ISOLATE=1 isolates every task; TaskFlags::isolate = false opts out",
          "[isolation][settings]") {
  mpiply_test::RestoreEnv env("MPIPLY_ISOLATE");
  setenv("MPIPLY_ISOLATE", "1", 1);
  int rc = run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      auto r = c[e].apply_async(my_pid);
      long worker_pid = r.get(kBound);
      long engine_pid = r.metadata().at(0).pid;
      CHECK(engine_pid > 0);
      CHECK(worker_pid != engine_pid);
      mpiply::TaskFlags off;
      off.isolate = false;
      CHECK(c[e].with_flags(off).apply_async(my_pid).get(kBound) == engine_pid);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}
