// map_team end to end (docs/resources.md, Teams): every item runs as one team task, teams of
// mixed sizes side by side with values checked by item (a megabyte among them); the root option
// returns team rank 0's value alone while a member's failure still fails it; a member that raises
// while the others wait in a collective decides its item at once; a DirectView task on an engine
// held for a waiting team is not held back. apply_team's cases are in test_teams.cpp.
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"
#include "support.hpp"
#include "team_support.hpp"

namespace {

// An item of a team map: a block of `size` ints starting at `base`. Every member sums its
// share (elements r, r + k, ...) and the team allreduces; each member returns (its team rank,
// the team size, the whole block's sum, its engine).
using Share = std::tuple<int, int, long, int>;
Share block_sum(std::vector<int> block) {
  MPI_Comm c = mpiply::task_comm();
  int size = 0, rank = 0;
  MPI_Comm_size(c, &size);
  MPI_Comm_rank(c, &rank);
  long mine = 0, total = 0;
  for (std::size_t i = static_cast<std::size_t>(rank); i < block.size();
       i += static_cast<std::size_t>(size))
    mine += block[i];
  MPI_Allreduce(&mine, &total, 1, MPI_LONG, MPI_SUM, c);
  return {rank, size, total, mpiply::this_engine().id()};
}

std::vector<int> make_block(int base, int size) {
  std::vector<int> v(static_cast<std::size_t>(size));
  std::iota(v.begin(), v.end(), base);
  return v;
}

// Team rank 1 keeps task_comm() for release_stuck and raises; the other members wait in a
// barrier on it that rank 1 never enters. (In a team of one, rank 0 raises.)
MPI_Comm g_stuck = MPI_COMM_NULL;
int raise_in_collective(int k) {
  MPI_Comm c = mpiply::task_comm();
  int rank = 0;
  MPI_Comm_rank(c, &rank);
  if (rank == std::min(1, k - 1)) {
    g_stuck = c;
    throw std::runtime_error("member gave up before the barrier");
  }
  MPI_Barrier(c);
  return rank;
}
// Run on the engine that raised: enters the barrier the others wait in, which frees them.
bool release_stuck() {
  if (g_stuck == MPI_COMM_NULL) return false;
  MPI_Barrier(g_stuck);
  g_stuck = MPI_COMM_NULL;
  return true;
}

// A member returns a megabyte (rank 0's marked with the team size); with the root option only
// rank 0's travels back.
std::vector<char> rank_megabyte(int seed) {
  int rank = 0, size = 0;
  MPI_Comm_rank(mpiply::task_comm(), &rank);
  MPI_Comm_size(mpiply::task_comm(), &size);
  std::vector<char> v = mpiply_test::patterned_megabyte(seed);
  v[0] = static_cast<char>(rank);
  v[1] = static_cast<char>(size);
  return v;
}

// Rank r of the team raises when r == bad; the others return their rank.
int raise_on_rank(int bad) {
  int rank = 0;
  MPI_Comm_rank(mpiply::task_comm(), &rank);
  if (rank == bad) throw std::runtime_error(fmt::format("rank {} failed", rank));
  return rank;
}

}  // namespace

using team_test::check_team;
using team_test::comms_made;
using team_test::member;
using team_test::one_engine;
using team_test::Seen;

MPIPLY_REGISTER(member);
MPIPLY_REGISTER(one_engine);
MPIPLY_REGISTER(comms_made);
MPIPLY_REGISTER(block_sum);
MPIPLY_REGISTER(raise_in_collective);
MPIPLY_REGISTER(release_stuck);
MPIPLY_REGISTER(rank_megabyte);
MPIPLY_REGISTER(raise_on_rank);

TEST_CASE("map_team runs every item as a team, items of mixed sizes side by side, values by item",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto n = static_cast<unsigned>(c.ids().size());
    // Maps of teams of 1, 2, 3 and every engine, submitted together so that teams of mixed
    // sizes wait and run side by side, with one-engine tasks beside them. Each map has 30
    // blocks of mixed lengths, one of them a megabyte.
    std::vector<std::vector<int>> blocks;
    for (int i = 0; i < 30; ++i)
      blocks.push_back(make_block(i * 1000, i == 7 ? (1 << 18) : 1 + (i * 37) % 500));
    std::vector<std::pair<unsigned, mpiply::TeamMapResult<Share>>> maps;
    for (unsigned k : {1u, 2u, 3u, n})
      if (k <= n) maps.emplace_back(k, lv.map_team_async(k, block_sum, blocks));
    auto singles = lv.map_async(one_engine, mpiply_test::iota_vec(50));
    for (auto& [k, t] : maps) {
      REQUIRE(t.size() == blocks.size());
      CHECK(t.team_size() == k);
      std::vector<std::vector<Share>> got = t.get(mpiply::Seconds(100));
      REQUIRE(got.size() == blocks.size());
      std::vector<mpiply::TaskMetadata> md = t.metadata();
      REQUIRE(md.size() == blocks.size() * k);
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        long want = std::accumulate(blocks[i].begin(), blocks[i].end(), 0L);
        REQUIRE(got[i].size() == k);
        std::set<int> engines;
        for (unsigned r = 0; r < k; ++r) {
          const Share& s = got[i][r];
          CHECK(std::get<0>(s) == static_cast<int>(r));
          CHECK(std::get<1>(s) == static_cast<int>(k));
          CHECK(std::get<2>(s) == want);
          CHECK(std::get<3>(s) == md[i * k + r].engine_id);
          if (r > 0) CHECK(std::get<3>(s) > std::get<3>(got[i][r - 1]));  // team-rank order
          engines.insert(std::get<3>(s));
        }
        CHECK(engines.size() == k);
        CHECK(t.value(i) == got[i]);
      }
    }
    std::vector<int> s = singles.get();
    for (int i = 0; i < 50; ++i) CHECK(s[static_cast<std::size_t>(i)] == i + 1);
    // An empty map is an empty result; options that cannot apply are UsageErrors.
    CHECK(lv.map_team(1u, block_sum, std::vector<std::vector<int>>{}).empty());
    CHECK_THROWS_WITH(lv.map_team(1u, block_sum, std::vector<std::vector<int>>{{1}},
                                  mpiply::MapOptions{.chunksize = 2}),
                      Catch::Contains("chunksize is 2") && Catch::Contains("vector per item"));
    CHECK_THROWS_WITH(lv.map_team(1u, block_sum, std::vector<std::vector<int>>{{1}},
                                  mpiply::MapOptions{.ordered = false}),
                      Catch::Contains("ordered = false"));
    CHECK_THROWS_WITH(lv.map_team(n + 1, block_sum, std::vector<std::vector<int>>{{1}}),
                      Catch::Contains(fmt::format("team of {} engines", n + 1)));
    CHECK(c.outstanding().empty());
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("the root option returns team rank 0's value only; a member's failure still fails it",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto n = static_cast<unsigned>(c.ids().size());
    auto k = std::min(3u, n);
    // apply_team_root: one megabyte back, rank 0's; the members' results carry no value.
    std::size_t held = c.results_bytes();
    mpiply::AsyncResult<std::vector<char>> one = lv.apply_team_root_async(k, rank_megabyte, 5);
    std::vector<char> want = mpiply_test::patterned_megabyte(5);
    want[0] = 0;
    want[1] = static_cast<char>(k);
    CHECK(one.get() == want);
    // One megabyte came back, not k: the hub keeps what arrived.
    CHECK(c.results_bytes() - held >= want.size());
    CHECK(c.results_bytes() - held < want.size() + want.size() / 2);
    CHECK(one.metadata().size() == k);
    for (const auto& m : one.metadata()) CHECK(m.error.empty());
    // map_team_root over many items: item i's value is rank 0's.
    std::vector<int> seeds = mpiply_test::iota_vec(12);
    std::vector<std::vector<char>> got = lv.map_team_root(k, rank_megabyte, seeds);
    REQUIRE(got.size() == seeds.size());
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      std::vector<char> w = mpiply_test::patterned_megabyte(seeds[i]);
      w[0] = 0;
      w[1] = static_cast<char>(k);
      CHECK(got[i] == w);
    }
    // A member of rank > 0 that fails fails the task, naming it (in a team of one, rank 0).
    int bad = static_cast<int>(k) - 1;
    auto failing = lv.apply_team_root_async(k, raise_on_rank, bad);
    CHECK_THROWS_WITH(failing.get(),
                      Catch::Contains(fmt::format("team member of rank {} of {}", bad, k)) &&
                          Catch::Contains(fmt::format("rank {} failed", bad)));
    mpiply::Outcome<int> out = failing.get(mpiply::return_exceptions);
    CHECK_FALSE(out.ok());
    auto items = lv.map_team_root_async(k, raise_on_rank, std::vector<int>{-1, bad, -1});
    std::vector<mpiply::Outcome<int>> outs = items.get(mpiply::return_exceptions);
    REQUIRE(outs.size() == 3);
    CHECK(outs[0].ok());
    CHECK(*outs[0] == 0);
    CHECK_FALSE(outs[1].ok());
    CHECK_THAT(outs[1].error().evalue(), Catch::Contains(fmt::format("rank {} of {}", bad, k)));
    CHECK(outs[2].ok());
    try {
      items.get();
      FAIL("a failed item returned values");
    } catch (const mpiply::CompositeError& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0].index == 1);
      CHECK(e.total() == 3);
    }
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a member that raises while the others wait in a collective fails its item at once",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto n = static_cast<unsigned>(c.ids().size());
    auto k = std::min(3u, n);
    int bad = std::min(1, static_cast<int>(k) - 1);
    auto t = lv.map_team_async(k, raise_in_collective, std::vector<int>{static_cast<int>(k)});
    // Decided by the member that raised, while the others are still in their barrier.
    REQUIRE(t.wait(mpiply::Seconds(30)));
    try {
      t.get();
      FAIL("a team with a failed member returned values");
    } catch (const mpiply::CompositeError& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0].index == 0);
      CHECK_THAT(e.what(), Catch::Contains(fmt::format("team member of rank {} of {}", bad, k)) &&
                               Catch::Contains("gave up before the barrier"));
      CHECK(e.errors()[0].error.engine_id() == t.metadata()[static_cast<std::size_t>(bad)].engine_id);
    }
    // The engine that raised is free at once; the waiting members are busy until their
    // collective completes, which here the raising engine's next task does.
    int raiser = t.metadata()[static_cast<std::size_t>(bad)].engine_id;
    CHECK(c[raiser].apply(release_stuck));
    CHECK(t.AsyncResultBase::wait(mpiply::Seconds(30)));  // every member has answered now
    std::vector<std::uint64_t> again = lv.apply_team(k, comms_made);
    CHECK(again.size() == k);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a DirectView task on an engine held for a waiting team runs, and the team then runs",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto n = static_cast<int>(c.ids().size());
    if (n < 2) return 0;  // one engine cannot hold for a team while another runs
    sched_test::TempFile busy("team-busy"), open("team-open");
    sched_test::touch(open.path);
    auto lv = c.load_balanced_view();
    // Engine 0 is busy until the test opens `busy`, so a team of every engine waits, holding
    // the others as they are idle.
    auto blocker = c[0].apply_async(sched_test::gate_item, busy.path, 7);
    blocker.wait_for_send(mpiply::Seconds(30));
    auto team = lv.apply_team_async(static_cast<unsigned>(n), member, open.path);
    // A DirectView names its engine: it runs on a held engine at once, before the team.
    for (int e = 1; e < n; ++e) CHECK(c[e].apply(sched_test::where) == e);
    CHECK_FALSE(team.ready());
    sched_test::touch(busy.path);
    CHECK(blocker.get() == 7);
    check_team(team.get(mpiply::Seconds(60)), n);
    return 0;
  });
  CHECK(rc == 0);
}
