// The scheduler's promises: new work goes to the least-loaded engine, and no engine holds more
// than its window of outstanding tasks (hwm; without MPIPLY_HWM deeper, up to the deepest window,
// while its tasks run briefly); the rest wait on rank 0 (visible as not yet sent).
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
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

int short_task(int x) { return x; }

// The deepest window (src/scheduling/window_policy.hpp, WindowPolicy::kDeepWindow).
constexpr std::size_t kDeepWindow = 32;

}  // namespace

// Holds its engine until the test opens the gate (bounded: hub_support.hpp).
int gated(std::string gate) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return mpiply::this_engine().id();
}

MPIPLY_REGISTER(hold_ms);
MPIPLY_REGISTER(short_task);
MPIPLY_REGISTER(gated);

namespace {

// Submits a map of gated tasks, more than every engine's deepest window together, and returns
// how many each engine was sent before any could finish; then opens the gate and checks the
// values.
std::map<int, std::size_t> sent_behind_gate(mpiply::Client& c) {
  const std::size_t n = c.ids().size() * kDeepWindow + 5;
  hub_test::Gate gate;
  auto amr = c.load_balanced_view().map_async(gated, std::vector<std::string>(n, gate.path()));
  std::map<int, std::size_t> sent;
  for (const auto& m : amr.metadata())
    if (m.status == mpiply::TaskStatus::sent) ++sent[m.engine_id];
  gate.open();
  for (int e : amr.get(mpiply::Seconds(120))) CHECK(e >= 0);
  return sent;
}

}  // namespace

TEST_CASE("long tasks keep an engine at hwm; short ones deepen its window, within a bound",
          "[scheduler]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    if (c.inline_mode()) return;  // one rank runs every task at submission
    auto lbv = c.load_balanced_view();
    const std::size_t engines = c.ids().size();
    const std::size_t hwm = static_cast<std::size_t>(c.hwm());
    // Tasks of a millisecond and more: far over what a deeper window may hold of each.
    for (int id : lbv.map(hold_ms, std::vector<int>(engines * 4, 1))) CHECK(id >= 0);
    auto sent = sent_behind_gate(c);
    CHECK(sent.size() == engines);
    for (auto [e, k] : sent) CHECK(k == hwm);
    // Short tasks: an engine is given more than hwm. Its window follows its tasks' recent run
    // times, which a loaded machine can stretch (a task descheduled), so this tries again, a
    // bounded number of times, until one engine shows it.
    bool deeper = false;
    for (int attempt = 0; attempt < 20 && !deeper; ++attempt) {
      auto xs = mpiply_test::iota_vec(2000);
      CHECK(lbv.map(short_task, xs) == xs);
      for (auto [e, k] : sent_behind_gate(c)) {
        CHECK(k <= kDeepWindow);
        deeper = deeper || k > hwm;
      }
    }
    CHECK(deeper);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a window set by the user (RunOptions::hwm) stays fixed for short tasks",
          "[scheduler]") {
  mpiply::RunOptions o;
  o.hwm = 3;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [](mpiply::Client& c) {
    if (c.inline_mode()) return;
    auto xs = mpiply_test::iota_vec(2000);
    CHECK(c.load_balanced_view().map(short_task, xs) == xs);
    auto sent = sent_behind_gate(c);
    CHECK(sent.size() == c.ids().size());
    for (auto [e, k] : sent) CHECK(k == 3);
  });
  REQUIRE(rc == 0);
}

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
