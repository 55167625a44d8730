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
      c.shutdown({0});
      if (c.ids().size() == 1) {
        // No engine left to balance over: a clear error before anything is sent.
        CHECK_THROWS_AS(lbv.with_flags({.retries = 1}).apply_async(where), mpiply::UsageError);
        CHECK_THROWS_AS(lbv.apply_async(where).get(kBound), mpiply::TaskAborted);
        return;
      }
      for (int w : lbv.map(where_item, std::vector<int>(30, 0))) CHECK(w != 0);
      for (int w : lbv.map(where_item, std::vector<int>(30, 0), {.flags = {.retries = 1}}))
        CHECK(w != 0);
      CHECK_THROWS_AS(c[0].apply_async(where).get(kBound), mpiply::TaskAborted);
      CHECK(c[c.ids().back()].apply(where) == c.ids().back());
      // A targets flag naming only the retired engine: nothing could run it.
      CHECK_THROWS_AS(
          lbv.with_flags({.targets = std::vector<int>{0}}).apply_async(where),
          mpiply::UsageError);
    });
    REQUIRE(rc == 0);
  }
}
