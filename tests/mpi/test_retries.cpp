// LoadBalancedView retries, as ipyparallel's: a task that raised runs again, up to `retries`
// times, never on an engine it already failed on; when every engine it may use failed it, it
// fails with ImpossibleDependency (naming them and carrying its last error); its `timeout`
// bounds the wait for an engine as well as for dependencies. Metadata lists the attempts and
// the engines tried.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"
#include "support.hpp"

using namespace sched_test;

TEST_CASE("a task that fails on its first attempt only succeeds with one retry", "[retries]") {
  TempFile marker("first"), marker2("first-noretry"), marker3("first-map");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    // Without retries the first failure is the answer.
    CHECK_THROWS_AS(lbv.apply_async(fail_first, marker2.path, 1).get(kBound), mpiply::RemoteError);
    auto ar = lbv.with_flags({.retries = 1}).apply_async(fail_first, marker.path, 4);
    auto amr = lbv.map_async(fail_first, std::vector<std::string>(6, marker3.path),
                             std::vector<int>{1, 2, 3, 4, 5, 6}, {.flags = {.retries = 1}});
    if (c.ids().size() == 1) {
      // The one engine failed it: a retry never goes back there, so nothing can run it.
      CHECK_THROWS_AS(ar.get(kBound), mpiply::ImpossibleDependency);
      CHECK(ar.metadata().at(0).attempts == 1);
      CHECK_THROWS_AS(amr.get(kBound), mpiply::CompositeError);
      return;
    }
    CHECK(ar.get(kBound) == 40);
    auto m = ar.metadata().at(0);
    CHECK(m.status == mpiply::TaskStatus::ok);
    CHECK(m.attempts == 2);
    REQUIRE(m.engines_tried.size() == 2);
    CHECK(m.engines_tried.back() == m.engine_id);
    CHECK(m.engines_tried[0] != m.engines_tried[1]);  // another engine
    // In a map: the chunk that failed runs again; the values of the others are kept.
    CHECK(amr.get(kBound) == std::vector<int>{10, 20, 30, 40, 50, 60});
    int retried = 0;
    for (const auto& md : amr.metadata()) retried += md.attempts == 2 ? 1 : 0;
    CHECK(retried == 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("retries move a task off an engine that always fails", "[retries]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    const int bad = 0;
    const std::size_t n = 8 * c.ids().size();
    auto amr = lbv.map_async(fail_on_engine, std::vector<int>(n, bad), std::vector<int>(n, 0),
                             {.flags = {.retries = 2}});
    if (c.ids().size() == 1) {
      // No other engine: each item fails once there and can go nowhere else.
      try {
        amr.get(kBound);
        FAIL("expected a CompositeError");
      } catch (const mpiply::CompositeError& ce) {
        CHECK(ce.errors().size() == n);
      }
      for (const auto& md : amr.metadata()) {
        CHECK(md.attempts == 1);
        CHECK(md.engines_tried == std::vector<int>{0});
        CHECK_THAT(md.error, Catch::Contains("ImpossibleDependency"));
      }
      return;
    }
    for (int w : amr.get(kBound)) CHECK(w != bad);
    int moved = 0;
    for (const auto& md : amr.metadata()) {
      CHECK(md.status == mpiply::TaskStatus::ok);
      CHECK(md.engine_id != bad);
      if (md.attempts == 2) {
        ++moved;
        CHECK(md.engines_tried.front() == bad);
      } else {
        CHECK(md.attempts == 1);
      }
    }
    CHECK(moved > 0);  // the first dispatch filled every engine, the bad one too
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task that always raises fails after its retries, with its last error", "[retries]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto ar = lbv.with_flags({.retries = 2}).apply_async(fail_always, 7);
    // Its own error once the retries are spent; with fewer engines than attempts, the
    // ImpossibleDependency that ends it carries that error too.
    CHECK_THROWS_WITH(ar.get(kBound), Catch::Contains("fail_always(7)"));
    auto m = ar.metadata().at(0);
    CHECK(m.status == mpiply::TaskStatus::error);
    const std::size_t attempts = std::min<std::size_t>(3, c.ids().size());
    CHECK(m.attempts == static_cast<int>(attempts));
    CHECK(std::set<int>(m.engines_tried.begin(), m.engines_tried.end()).size() == attempts);
    // A task depending on it learns of the failure only after the last attempt.
    auto after = lbv.with_flags({.after = ar}).apply_async(add1, 1);
    CHECK_THROWS_AS(after.get(kBound), mpiply::ImpossibleDependency);
  });
  REQUIRE(rc == 0);
}

// The engines of this job, each held busy by hwm gate tasks, except `free`.
static std::vector<mpiply::AsyncResult<int>> hold_all_but(mpiply::Client& c, int free,
                                                          const std::string& gate) {
  std::vector<mpiply::AsyncResult<int>> held;
  for (int e : c.ids())
    if (e != free)
      for (int k = 0; k < c.hwm(); ++k) held.push_back(c[e].apply_async(gate_item, gate, e));
  return held;
}

TEST_CASE("retries = engines - 1: the task tries each engine once, then fails with its error",
          "[retries]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    const auto engines = c.ids();
    const int e = static_cast<int>(engines.size());
    auto lbv = c.load_balanced_view();
    auto ar = lbv.with_flags({.retries = e - 1}).apply_async(fail_always, 3);
    try {
      ar.get(kBound);
      FAIL("expected the task's RemoteError");
    } catch (const mpiply::ImpossibleDependency&) {
      FAIL("its retries were spent on distinct engines: its own error is the answer");
    } catch (const mpiply::RemoteError& err) {
      CHECK(err.kind() == mpiply::ErrorKind::raised);
      CHECK_THAT(err.what(), Catch::Contains("fail_always(3)"));
    }
    auto m = ar.metadata().at(0);
    CHECK(m.attempts == e);
    std::vector<int> tried = m.engines_tried;
    std::sort(tried.begin(), tried.end());
    CHECK(tried == engines);  // each engine exactly once

    // One retry more than engines: once every engine failed it, nothing can run it.
    auto more = lbv.with_flags({.retries = e}).apply_async(fail_always, 4);
    try {
      more.get(kBound);
      FAIL("expected ImpossibleDependency");
    } catch (const mpiply::ImpossibleDependency& err) {
      CHECK_THAT(err.what(), Catch::Contains("fail_always(4)"));
      CHECK_THAT(err.what(), Catch::Contains("never goes back to an engine"));
      for (int id : engines) CHECK_THAT(err.what(), Catch::Contains(std::to_string(id)));
    }
    auto mm = more.metadata().at(0);
    CHECK(mm.attempts == e);
    CHECK(std::set<int>(mm.engines_tried.begin(), mm.engines_tried.end()).size() ==
          engines.size());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task that cannot be placed before its timeout fails with DependencyTimeout",
          "[retries]") {
  TempFile gate("unplaceable"), gate2("retry-unplaceable");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    if (c.inline_mode()) return;  // tasks run at submission: nothing ever waits for an engine
    auto lbv = c.load_balanced_view();
    const int busy = c.ids().front();
    // Engine `busy` is full; the task may run there only.
    std::vector<mpiply::AsyncResult<int>> held;
    for (int k = 0; k < c.hwm(); ++k) held.push_back(c[busy].apply_async(gate_item, gate.path, k));
    auto ar = lbv.with_flags({.timeout = mpiply::Seconds(0.3), .targets = std::vector<int>{busy}})
                  .apply_async(add1, 1);
    CHECK_THROWS_AS(ar.get(kBound), mpiply::DependencyTimeout);
    CHECK_THROWS_WITH(ar.get(kBound), Catch::Contains("had room for it"));
    CHECK(ar.metadata().at(0).attempts == 0);  // never sent
    touch(gate.path);
    for (auto& h : held) CHECK(h.get(kBound) >= 0);

    if (c.ids().size() < 2) return;
    // A retry waits for an engine it has not tried: the engine that failed it is idle, every
    // other is full, and the timeout ends the wait.
    const int free = c.ids().back();
    auto others = hold_all_but(c, free, gate2.path);
    auto retry = lbv.with_flags({.retries = 3, .timeout = mpiply::Seconds(0.3)})
                     .apply_async(fail_on_engine, free, 0);
    CHECK_THROWS_AS(retry.get(kBound), mpiply::DependencyTimeout);
    CHECK_THROWS_WITH(retry.get(kBound), Catch::Contains("run again"));
    auto m = retry.metadata().at(0);
    CHECK(m.engines_tried == std::vector<int>{free});
    touch(gate2.path);
    for (auto& h : others) CHECK(h.get(kBound) >= 0);
  });
  REQUIRE(rc == 0);
}
