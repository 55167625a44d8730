// Each engine's window (src/scheduling/window_policy.hpp): hwm when the user set it or when the
// engine's tasks run long, deeper while they run briefly, never outside [hwm, deep]; and the
// engine index listing an engine by its own window.
#include <catch2/catch.hpp>

#include "scheduling/engine_index.hpp"
#include "scheduling/window_policy.hpp"

using mpiply::Scheme;
using mpiply::detail::EngineIndex;
using mpiply::detail::WindowPolicy;

TEST_CASE("a fixed hwm never deepens, whatever the tasks' run times", "[window]") {
  WindowPolicy p;
  p.reset(3, 4, 4);  // deep <= hwm: MPIPLY_HWM or RunOptions::hwm was given
  CHECK_FALSE(p.deepens());
  CHECK(p.deepest() == 4);
  for (int k = 0; k < 100; ++k) CHECK(p.ran(1, 10) == 4);
  CHECK(p.window(0) == 4);
}

TEST_CASE("an engine's window deepens while its tasks run briefly and comes back", "[window]") {
  WindowPolicy p;
  p.reset(2, 4, WindowPolicy::kDeepWindow);
  REQUIRE(p.deepens());
  CHECK(p.deepest() == WindowPolicy::kDeepWindow);
  CHECK(p.window(0) == 4);  // nothing known yet: hwm
  CHECK(p.ran(0, -1) == 4);  // a run time not known changes nothing
  // One-microsecond tasks: 200 would fill the budget; the window stops at the deepest.
  CHECK(p.ran(0, 1'000) == WindowPolicy::kDeepWindow);
  CHECK(p.window(1) == 4);  // the other engine is untouched
  // Ten-microsecond tasks: the moving average gets there, and 20 of them fill the budget.
  for (int k = 0; k < 200; ++k) p.ran(0, 10'000);
  CHECK(p.window(0) == 20);
  // Tasks longer than the budget: hwm again, never below it.
  for (int k = 0; k < 200; ++k) p.ran(0, 5'000'000);
  CHECK(p.window(0) == 4);
  // A zero run time (a coarse clock) counts as 1 ns, not a division by zero.
  WindowPolicy q;
  q.reset(1, 1, 8);
  CHECK(q.ran(0, 0) == 8);
}

TEST_CASE("one slow task among short ones narrows the window at once", "[window]") {
  WindowPolicy p;
  p.reset(1, 4, WindowPolicy::kDeepWindow);
  for (int k = 0; k < 50; ++k) p.ran(0, 500);
  REQUIRE(p.window(0) == WindowPolicy::kDeepWindow);
  // One task of 20 ms moves the mean to about 2.5 ms: the budget holds no more than hwm.
  CHECK(p.ran(0, 20'000'000) == 4);
}

TEST_CASE("the engine index lists an engine by its own window", "[window]") {
  EngineIndex ix;
  ix.reset(2, 2, 8, Scheme::leastload);
  CHECK(ix.states().deepest() == 8);
  ix.set_load(0, 2);
  ix.set_load(1, 2);
  CHECK(ix.least_round_robin() == -1);  // both at hwm
  ix.set_window(1, 8);
  CHECK(ix.states().has_room(1));
  CHECK(ix.least_round_robin() == 1);
  for (unsigned c = 3; c <= 8; ++c) ix.set_load(1, c);
  CHECK(ix.least_round_robin() == -1);  // engine 1 full at its deeper window
  ix.set_load(1, 5);
  CHECK(ix.least_round_robin() == 1);
  ix.set_window(1, 2);  // back to hwm while it holds 5: no room until it is below 2
  CHECK(ix.least_round_robin() == -1);
  ix.set_load(1, 1);
  CHECK(ix.least_round_robin() == 1);
}
