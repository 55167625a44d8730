// LoadBalancedView retries: a task that raised runs again, up to `retries` times, on an engine
// it has not tried while there is one; its failure is stored only once the retries are spent,
// and metadata lists the attempts and the engines tried.
#include <catch2/catch.hpp>

#include <set>
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
    CHECK(ar.get(kBound) == 40);
    auto m = ar.metadata().at(0);
    CHECK(m.status == mpiply::TaskStatus::ok);
    CHECK(m.attempts == 2);
    REQUIRE(m.engines_tried.size() == 2);
    CHECK(m.engines_tried.back() == m.engine_id);
    if (c.ids().size() >= 2) CHECK(m.engines_tried[0] != m.engines_tried[1]);  // another engine
    // In a map: the chunk that failed runs again; the values of the others are kept.
    auto amr = lbv.map_async(fail_first, std::vector<std::string>(6, marker3.path),
                             std::vector<int>{1, 2, 3, 4, 5, 6}, {.flags = {.retries = 1}});
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
      // No other engine: every attempt runs there and fails; the error is stored once per item.
      try {
        amr.get(kBound);
        FAIL("expected a CompositeError");
      } catch (const mpiply::CompositeError& ce) {
        CHECK(ce.errors().size() == n);
      }
      for (const auto& md : amr.metadata()) {
        CHECK(md.attempts == 3);
        CHECK(md.engines_tried == std::vector<int>{0, 0, 0});
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
    CHECK_THROWS_WITH(ar.get(kBound), Catch::Contains("fail_always(7)"));
    auto m = ar.metadata().at(0);
    CHECK(m.status == mpiply::TaskStatus::error);
    CHECK(m.attempts == 3);
    CHECK(m.engines_tried.size() == 3);
    // With as many engines as attempts, each attempt ran somewhere new.
    if (c.ids().size() >= 3)
      CHECK(std::set<int>(m.engines_tried.begin(), m.engines_tried.end()).size() == 3);
    // A task depending on it learns of the failure only after the last attempt.
    auto after = lbv.with_flags({.after = ar}).apply_async(add1, 1);
    CHECK_THROWS_AS(after.get(kBound), mpiply::ImpossibleDependency);
  });
  REQUIRE(rc == 0);
}
