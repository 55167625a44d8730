// The scheduler's promises: new work goes to the least-loaded engine, and no engine holds more
// than hwm outstanding tasks; the rest wait on rank 0 (visible as not yet sent).
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

// A task that is slow on purpose and reports where it ran.
int hold_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return mpiply::this_engine().id();
}

}  // namespace

// Holds its engine until the test opens the gate (bounded: hub_support.hpp).
int gated(std::string gate) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return mpiply::this_engine().id();
}

MPIPLY_REGISTER(hold_ms);
MPIPLY_REGISTER(gated);

TEST_CASE("as many slow tasks as engines land one on each engine", "[scheduler]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    std::size_t n = c.ids().size();
    std::vector<mpiply::AsyncResult<int>> ars;
    for (std::size_t i = 0; i < n; ++i) ars.push_back(lbv.apply_async(hold_ms, 200));
    std::set<int> engines;
    for (auto& ar : ars) engines.insert(ar.get());
    CHECK(engines.size() == n);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("an engine holds at most hwm tasks; the rest wait unsent on rank 0", "[scheduler]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto e = c[0];
    const int hwm = c.hwm();
    if (c.inline_mode()) {
      // One rank runs every task at submission: nothing waits, nothing is outstanding.
      std::vector<mpiply::AsyncResult<int>> ars;
      for (int i = 0; i < hwm + 3; ++i) ars.push_back(e.apply_async(hold_ms, 1));
      CHECK(c.outstanding().empty());
      for (auto& ar : ars) {
        CHECK(ar.sent());
        CHECK(ar.ready());
        CHECK(ar.metadata().at(0).status == mpiply::TaskStatus::ok);
        CHECK(ar.get() == 0);
      }
      return;
    }
    // The first task holds the engine at a gate until every submission below is checked.
    hub_test::Gate gate;
    std::vector<mpiply::AsyncResult<int>> ars;
    ars.push_back(e.apply_async(gated, gate.path()));
    for (int i = 1; i < hwm + 3; ++i) ars.push_back(e.apply_async(hold_ms, 1));
    int unsent = 0;
    for (auto& ar : ars) unsent += ar.sent() ? 0 : 1;
    CHECK(unsent == 3);
    CHECK(c.outstanding().size() == static_cast<std::size_t>(hwm + 3));
    auto meta_queued = ars.back().metadata();
    CHECK(meta_queued.at(0).status == mpiply::TaskStatus::queued);
    CHECK(meta_queued.at(0).engine_id == -1);
    gate.open();
    // They are sent as the engine frees up, and all finish there.
    for (auto& ar : ars) CHECK(ar.get() == 0);
    for (auto& ar : ars) CHECK(ar.sent());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("load-balanced work spreads over every engine as they free up", "[scheduler]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    std::vector<int> ms(8 * c.ids().size(), 20);
    auto engines = c.load_balanced_view().map(hold_ms, ms);
    std::set<int> used(engines.begin(), engines.end());
    CHECK(used.size() == c.ids().size());
  });
  REQUIRE(rc == 0);
}
