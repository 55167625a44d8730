// Placement schemes (RunOptions::scheme, MPIPLY_SCHEME): each one runs a map correctly, never
// gives an engine more than hwm tasks, and uses every engine; the `targets` flag and
// Client::shutdown(targets) keep tasks off engines.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"
#include "support.hpp"

using namespace sched_test;

namespace {

mpiply::RunOptions with_scheme(mpiply::Scheme s) {
  mpiply::RunOptions o;
  o.scheme = s;
  return o;
}

const mpiply::Scheme kAll[] = {mpiply::Scheme::leastload, mpiply::Scheme::lru,
                               mpiply::Scheme::twobin, mpiply::Scheme::weighted,
                               mpiply::Scheme::plainrandom};

}  // namespace

TEST_CASE("every scheme runs a map correctly, honours hwm and uses every engine", "[schemes]") {
  for (mpiply::Scheme scheme : kAll) {
    DYNAMIC_SECTION("scheme " << mpiply::to_string(scheme)) {
      TempFile gate("scheme");
      int rc = mpiply::run(1, mpiply_test::test_argv(), with_scheme(scheme), [&](mpiply::Client& c) {
        if (c.inline_mode()) touch(gate.path);
        const std::size_t engines = c.ids().size();
        const std::size_t hwm = static_cast<std::size_t>(c.hwm());
        const std::size_t n = engines * hwm + 5;
        std::vector<int> xs = mpiply_test::iota_vec(static_cast<int>(n));
        auto lbv = c.load_balanced_view();
        // Held at the gate, nothing finishes: what the scheme placed is all there is to see.
        auto amr = lbv.map_async(gate_item, std::vector<std::string>(n, gate.path), xs);
        if (!c.inline_mode()) {
          std::map<int, std::size_t> sent;
          std::size_t queued = 0;
          for (const auto& m : amr.metadata()) {
            if (m.status == mpiply::TaskStatus::sent) ++sent[m.engine_id];
            if (m.status == mpiply::TaskStatus::queued) ++queued;
          }
          CHECK(sent.size() == engines);
          for (auto [e, k] : sent) CHECK(k == hwm);
          CHECK(queued == 5);
          touch(gate.path);
        }
        CHECK(amr.get(kBound) == xs);
        // A plain map after the gate: right values again.
        auto ys = lbv.map(add1, xs, {.chunksize = 3});
        for (std::size_t i = 0; i < n; ++i) CHECK(ys[i] == xs[i] + 1);
        std::set<int> used;
        for (const auto& m : amr.metadata()) used.insert(m.engine_id);
        CHECK(used.size() == engines);
      });
      REQUIRE(rc == 0);
    }
  }
}

TEST_CASE("the targets flag balances over a subset of engines", "[schemes]") {
  for (mpiply::Scheme scheme : {mpiply::Scheme::leastload, mpiply::Scheme::plainrandom}) {
    int rc = mpiply::run(1, mpiply_test::test_argv(), with_scheme(scheme), [](mpiply::Client& c) {
      auto lbv = c.load_balanced_view();
      std::vector<int> subset{c.ids().back()};
      auto amr = lbv.map_async(where_item, std::vector<int>(20, 0),
                               {.flags = {.targets = subset}});
      for (int w : amr.get(kBound)) CHECK(w == subset[0]);
      auto one = lbv.with_flags({.retries = 0, .targets = subset}).apply_async(where);
      CHECK(one.get(kBound) == subset[0]);
    });
    REQUIRE(rc == 0);
  }
}

TEST_CASE("rc.shutdown(targets) keeps tasks off those engines; the job ends cleanly",
          "[schemes]") {
  for (mpiply::Scheme scheme : {mpiply::Scheme::leastload, mpiply::Scheme::lru}) {
    int rc = mpiply::run(1, mpiply_test::test_argv(), with_scheme(scheme), [](mpiply::Client& c) {
      auto lbv = c.load_balanced_view();
      auto e0 = c[0];  // a view made before the shutdown
      const std::size_t engines = c.ids().size();
      c.shutdown({0});
      // Through it, a call fails as aborted: the engine runs nothing more.
      CHECK_THROWS_AS(e0.apply_async(where).get(kBound), mpiply::TaskAborted);
      if (engines == 1) {
        // No engine left to balance over: a clear error before anything is sent.
        CHECK_THROWS_AS(lbv.with_flags({.retries = 1}).apply_async(where), mpiply::UsageError);
        CHECK_THROWS_AS(lbv.apply_async(where).get(kBound), mpiply::TaskAborted);
        CHECK(c.ids().empty());
        CHECK_THROWS_WITH(c.direct_view(), Catch::Contains("every engine of this job was shut down"));
        return;
      }
      for (int w : lbv.map(where_item, std::vector<int>(30, 0))) CHECK(w != 0);
      for (int w : lbv.map(where_item, std::vector<int>(30, 0), {.flags = {.retries = 1}}))
        CHECK(w != 0);
      CHECK_THROWS_AS(c[0], mpiply::UsageError);
      CHECK(c[c.ids().back()].apply(where) == c.ids().back());
      // A targets flag naming only the retired engine: nothing could run it.
      CHECK_THROWS_AS(
          lbv.with_flags({.targets = std::vector<int>{0}}).apply_async(where),
          mpiply::UsageError);
    });
    REQUIRE(rc == 0);
  }
}

TEST_CASE("shut-down engines leave ids(); naming one is a UsageError; nothing more runs there",
          "[schemes][shutdown]") {
  TempFile gate("shutdown");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    const std::vector<int> before = c.ids();
    if (before.size() < 2) {
      touch(gate.path);
      return;  // shutting down the only engine: the test case above
    }
    // Shut down every other engine from the second on: at 5 ranks engines 1 and 3.
    std::vector<int> gone, left;
    for (std::size_t i = 0; i < before.size(); ++i) (i % 2 == 1 ? gone : left).push_back(before[i]);
    // A task already running on an engine being shut down finishes there.
    auto running = c[gone[0]].apply_async(gate_item, gate.path, 7);
    c.shutdown(gone);
    touch(gate.path);
    CHECK(running.get(kBound) == 7);
    CHECK(running.metadata().at(0).engine_id == gone[0]);

    CHECK(c.ids() == left);
    CHECK(c.size() == left.size());
    std::vector<int> iterated;
    for (auto ev : c) iterated.push_back(ev.apply(where));
    CHECK(iterated == left);
    CHECK(c[-1].apply(where) == left.back());
    for (int g : gone) {
      const std::string named = "engine " + std::to_string(g) + " was shut down";
      CHECK_THROWS_WITH(c[g], Catch::Contains(named));
      CHECK_THROWS_AS(c.direct_view(g), mpiply::UsageError);
      CHECK_THROWS_WITH((c[std::vector<int>{left[0], g}]), Catch::Contains(named));
      CHECK_THROWS_WITH(c.load_balanced_view(std::vector<int>{g}), Catch::Contains(named));
      CHECK_THROWS_AS(c.shutdown({g}), mpiply::UsageError);
    }
    // rc[all] is the engines in service.
    auto who = c[mpiply::all].apply(where);
    CHECK(who == left);
    // Load-balanced tasks, plain and flagged, never go to a shut-down engine.
    auto lbv = c.load_balanced_view();
    const std::size_t n = 20 * before.size();
    std::set<int> used;
    for (int w : lbv.map(where_item, std::vector<int>(n, 0), {.chunksize = 1})) used.insert(w);
    for (int w : lbv.map(where_item, std::vector<int>(n, 0), {.chunksize = 1,
                                                                .flags = {.retries = 2}}))
      used.insert(w);
    for (int g : gone) CHECK(used.count(g) == 0);
    CHECK(used == std::set<int>(left.begin(), left.end()));
  });
  REQUIRE(rc == 0);
}
