// Rank 0's EngineIndex and the SchemePicker schemes over it (src/scheduling/engine_index.hpp, schemes.hpp):
// a random run of sends, results and shutdowns over 37 engines, where after every step each
// pick is checked against the scheme's definition computed by scanning every engine, the way
// the scheduler did before the index. Pure logic on rank 0's side; no messages.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "scheduling/engine_index.hpp"
#include "scheduling/schemes.hpp"

using mpiply::Scheme;
using mpiply::detail::EngineIndex;
using mpiply::detail::SchemePicker;

namespace {

constexpr int kEngines = 37;
constexpr unsigned kHwm = 3;

// What the scheme may pick among `cands` (all engines when empty), found by a full scan.
std::vector<int> admissible(const EngineIndex& ix, Scheme s, const std::vector<int>& cands) {
  std::vector<int> room;
  for (int e = 0; e < kEngines; ++e) {
    bool in = cands.empty() || std::find(cands.begin(), cands.end(), e) != cands.end();
    if (in && ix.states().has_room(e)) room.push_back(e);
  }
  if (room.empty() || (s != Scheme::leastload && s != Scheme::lru)) return room;
  int best = room[0];
  const auto& st = ix.states();
  for (int e : room) {
    bool better = s == Scheme::lru
                      ? ix.stamp(e) < ix.stamp(best)
                      : st.load(e) < st.load(best) ||
                            (st.load(e) == st.load(best) && ix.stamp(e) < ix.stamp(best));
    if (better) best = e;
  }
  return {best};
}

bool has(const std::vector<int>& v, int e) { return std::find(v.begin(), v.end(), e) != v.end(); }

}  // namespace

TEST_CASE("every scheme picks from the index what a scan of every engine would", "[schemes]") {
  for (Scheme s : {Scheme::leastload, Scheme::lru, Scheme::twobin, Scheme::weighted,
                   Scheme::plainrandom}) {
    DYNAMIC_SECTION("scheme " << mpiply::to_string(s)) {
      EngineIndex ix;
      ix.reset(kEngines, kHwm, kHwm, s);
      SchemePicker p(s);
      std::mt19937 rng(7);
      std::vector<unsigned> load(kEngines, 0);
      std::vector<int> subset{3, 9, 10, 22, 36};
      int retired = 0;
      std::map<int, int> used;
      for (int step = 0; step < 20000; ++step) {
        int what = static_cast<int>(rng() % 100);
        if (what < 50) {  // a task for any engine, or for the subset
          bool sub = what < 10;
          std::vector<int> expect = admissible(ix, s, sub ? subset : std::vector<int>{});
          int e = sub ? p.pick_among(ix, subset, [](int) { return true; }) : p.pick(ix);
          if (expect.empty()) {
            REQUIRE(e == -1);
            continue;
          }
          REQUIRE(has(expect, e));
          REQUIRE(load[static_cast<std::size_t>(e)] < kHwm);
          ix.set_load(e, ++load[static_cast<std::size_t>(e)]);
          ++used[e];
        } else if (what < 98) {  // a result from a random busy engine
          int e = static_cast<int>(rng() % kEngines);
          if (load[static_cast<std::size_t>(e)] == 0) continue;
          ix.set_load(e, --load[static_cast<std::size_t>(e)]);
        } else if (what == 98 && retired < 5) {  // a shutdown
          int e = static_cast<int>(rng() % kEngines);
          if (!ix.states().in_service(e)) continue;
          ix.retire(e);
          ++retired;
        }
        // The plain loop: always one of the least loaded engines with room.
        int rr = ix.least_round_robin();
        std::vector<int> room = admissible(ix, Scheme::plainrandom, {});
        if (room.empty()) {
          REQUIRE(rr == -1);
        } else {
          REQUIRE(has(room, rr));
          for (int e : room) REQUIRE(ix.states().load(rr) <= ix.states().load(e));
        }
        REQUIRE(ix.any_room() == !room.empty());
      }
      REQUIRE(ix.states().in_service_count() == static_cast<std::size_t>(kEngines - retired));
      for (int e = 0; e < kEngines; ++e)  // every engine in service got work
        if (ix.states().in_service(e)) CHECK(used.count(e) == 1);
    }
  }
}

TEST_CASE("the plain loop spreads ties round robin and honours hwm", "[schemes]") {
  EngineIndex ix;
  ix.reset(4, 2, 2, Scheme::leastload);
  std::vector<int> order;
  for (int k = 0; k < 8; ++k) {
    int e = ix.least_round_robin();
    order.push_back(e);
    ix.set_load(e, ix.states().load(e) + 1);
  }
  CHECK(order == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3});
  CHECK(ix.least_round_robin() == -1);  // every engine at hwm
  ix.set_load(2, 1);
  CHECK(ix.least_round_robin() == 2);
  ix.retire(2);
  CHECK(ix.least_round_robin() == -1);
}

TEST_CASE("weighted draws favour lightly loaded engines", "[schemes]") {
  EngineIndex ix;
  ix.reset(2, 4, 4, Scheme::weighted);
  ix.set_load(1, 3);
  std::mt19937_64 rng(1);
  int light = 0;
  for (int k = 0; k < 1000; ++k) light += ix.draw_weighted(rng) == 0;
  CHECK(light > 990);  // weights 1e6 : 1/3
  ix.set_load(0, 1);   // weights 1 : 1/3
  light = 0;
  for (int k = 0; k < 4000; ++k) light += ix.draw_weighted(rng) == 0;
  CHECK(light > 2700);
  CHECK(light < 3300);
}

TEST_CASE("the ordered set is rebuilt right after plain traffic dropped it", "[schemes]") {
  for (Scheme s : {Scheme::leastload, Scheme::lru}) {
    EngineIndex ix;
    ix.reset(kEngines, kHwm, kHwm, s);
    SchemePicker p(s);
    std::mt19937 rng(3);
    for (int round = 0; round < 5; ++round) {
      // Plain traffic: many load changes, no ordered question (the set is dropped meanwhile).
      for (int k = 0; k < 1000; ++k) {
        int e = static_cast<int>(rng() % kEngines);
        unsigned c = ix.states().load(e);
        if (c < kHwm && rng() % 2) ix.set_load(e, c + 1);
        else if (c > 0) ix.set_load(e, c - 1);
      }
      for (int k = 0; k < 20; ++k) {
        std::vector<int> expect = admissible(ix, s, {});
        int e = p.pick(ix);
        if (expect.empty()) {
          REQUIRE(e == -1);
          break;
        }
        REQUIRE(has(expect, e));
        ix.set_load(e, ix.states().load(e) + 1);
      }
    }
  }
}
