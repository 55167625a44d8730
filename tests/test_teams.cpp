// Team tasks end to end (docs/resources.md, Teams): LoadBalancedView::apply_team(k, f, ...) runs
// f on k idle engines at once; inside it mpiply::task_comm() is a communicator of exactly those
// k, team rank in ascending engine id, so an MPI_Allreduce over it sums the members only. Teams
// of several sizes run side by side on disjoint engines while one-engine tasks use the rest; many
// teams of mixed sizes all complete; a member that raises fails the team naming it; a repeated
// team reuses its communicator; a team larger than the engines is a UsageError at submission.
// map_team runs a team per item (teams of mixed sizes side by side), the root option returns
// team rank 0's value alone, a member that raises while the others wait in a collective decides
// its item at once, and a DirectView task on an engine held for a team is not held back. The
// [binding] case checks an engine's cores against its CPU binding (tests/CMakeLists.txt).
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

namespace {

// What a member saw: its engine id, task_comm's size and its rank there, and the sum over
// task_comm of every member's engine id + 1.
using Seen = std::tuple<int, int, int, int>;

Seen member(std::string gate) {
  // Every member waits for rank 0's gate, so the test decides when the team may end.
  if (sched_test::gate_item(std::move(gate), 0) != 0) return {-1, 0, 0, 0};
  MPI_Comm c = mpiply::task_comm();
  int size = 0, rank = 0;
  MPI_Comm_size(c, &size);
  MPI_Comm_rank(c, &rank);
  int mine = mpiply::this_engine().id() + 1, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, c);
  return {mpiply::this_engine().id(), size, rank, sum};
}

int one_engine(int x) { return x + 1; }

std::uint64_t comms_made() {
  MPI_Barrier(mpiply::task_comm());
  return mpiply::task_comms_created();
}

// Team rank 1 raises before any collective (or rank 0 in a team of one); the others return.
int raise_on_rank_one(int k) {
  int rank = 0;
  MPI_Comm_rank(mpiply::task_comm(), &rank);
  if (rank == std::min(1, k - 1)) throw std::runtime_error("member boom");
  return rank;
}

// A megabyte in, a megabyte out: each member returns it with its team rank in the first byte,
// after checking that every member received the same bytes (an allreduce of a checksum).
std::vector<char> megabyte_member(std::vector<char> v) {
  long sum = std::accumulate(v.begin(), v.end(), 0L), least = 0;
  MPI_Comm c = mpiply::task_comm();
  MPI_Allreduce(&sum, &least, 1, MPI_LONG, MPI_MIN, c);
  int rank = 0;
  MPI_Comm_rank(c, &rank);
  if (least != sum) throw std::runtime_error("members received different arguments");
  v[0] = static_cast<char>(rank);
  return v;
}

bool comm_outside_team() {
  try {
    mpiply::task_comm();
  } catch (const mpiply::UsageError&) {
    return true;
  }
  return false;
}

// The sum member() reports for a team on these engines.
int expected_sum(const std::vector<int>& engines) {
  int s = 0;
  for (int e : engines) s += e + 1;
  return s;
}

// Checks one team's values: k members, ranks 0..k-1 on ascending engines, the sum of the
// members only. Returns the engines.
std::vector<int> check_team(const std::vector<Seen>& got, int k) {
  REQUIRE(static_cast<int>(got.size()) == k);
  std::vector<int> engines;
  for (const auto& s : got) engines.push_back(std::get<0>(s));
  CHECK(std::is_sorted(engines.begin(), engines.end()));
  for (int r = 0; r < k; ++r) {
    CHECK(std::get<1>(got[static_cast<std::size_t>(r)]) == k);
    CHECK(std::get<2>(got[static_cast<std::size_t>(r)]) == r);
    CHECK(std::get<3>(got[static_cast<std::size_t>(r)]) == expected_sum(engines));
  }
  return engines;
}

}  // namespace

MPIPLY_REGISTER(member);
MPIPLY_REGISTER(one_engine);
MPIPLY_REGISTER(comms_made);
MPIPLY_REGISTER(raise_on_rank_one);
MPIPLY_REGISTER(megabyte_member);
MPIPLY_REGISTER(comm_outside_team);

TEST_CASE("teams of several sizes run side by side and one-engine tasks use the other engines",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    sched_test::TempFile gate("team-gate");
    auto lv = c.load_balanced_view();
    int n = static_cast<int>(c.ids().size());
    if (c.inline_mode()) sched_test::touch(gate.path);  // inline tasks run as they are submitted
    int a = (n + 1) / 2, b = n - a - (n >= 4 ? 1 : 0);
    auto ta = lv.apply_team_async(static_cast<unsigned>(a), member, gate.path);
    std::optional<mpiply::AsyncMapResult<Seen>> tb;
    if (b > 0) tb = lv.apply_team_async(static_cast<unsigned>(b), member, gate.path);
    // The teams are held in their gate: the one-engine tasks (one per engine left, which the
    // least loaded placement gives them) can only run beside them.
    if (n - a - b > 0) {
      auto singles = lv.map(one_engine, mpiply_test::iota_vec(n - a - b));
      CHECK(singles.size() == static_cast<std::size_t>(n - a - b));
    }
    ta.wait_for_send(mpiply::Seconds(60));
    if (tb) tb->wait_for_send(mpiply::Seconds(60));
    sched_test::touch(gate.path);
    std::vector<int> ea = check_team(ta.get(), a);
    std::set<int> all(ea.begin(), ea.end());
    std::vector<mpiply::TaskMetadata> md = ta.metadata();
    for (std::size_t r = 0; r < ea.size(); ++r) CHECK(md[r].engine_id == ea[r]);
    if (tb) {
      std::vector<int> eb = check_team(tb->get(), b);
      for (int e : eb) CHECK(all.insert(e).second);  // disjoint
    }
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("many teams of mixed sizes beside one-engine tasks all complete", "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    sched_test::TempFile gate("team-open");
    sched_test::touch(gate.path);  // open from the start: they run as engines come
    auto lv = c.load_balanced_view();
    unsigned n = static_cast<unsigned>(c.ids().size());
    std::vector<std::pair<unsigned, mpiply::AsyncMapResult<Seen>>> teams;
    std::vector<mpiply::AsyncResult<int>> singles;
    for (unsigned i = 0; i < 40; ++i) {
      unsigned k = 1 + (i * 7) % n;
      teams.emplace_back(k, lv.with_flags({.priority = static_cast<int>(i % 3)})
                                .apply_team_async(k, member, gate.path));
      singles.push_back(lv.apply_async(one_engine, static_cast<int>(i)));
    }
    for (auto& [k, t] : teams) check_team(t.get(mpiply::Seconds(120)), static_cast<int>(k));
    for (std::size_t i = 0; i < singles.size(); ++i)
      CHECK(singles[i].get() == static_cast<int>(i) + 1);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a member that raises fails the team with one error naming its engine and rank",
          "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    int k = std::min(3, static_cast<int>(c.ids().size()));
    auto t = lv.apply_team_async(static_cast<unsigned>(k), raise_on_rank_one, k);
    int bad = std::min(1, k - 1);
    try {
      auto values = t.get();
      FAIL("a team with a failed member returned " << values.size() << " values");
    } catch (const mpiply::CompositeError& e) {
      // One error, for the one member that raised: its team rank and engine.
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0].index == static_cast<std::size_t>(bad));
      CHECK(e.errors()[0].error.engine_id() ==
            t.metadata()[static_cast<std::size_t>(bad)].engine_id);
      CHECK_THAT(e.what(), Catch::Contains(fmt::format("team member of rank {} of {}", bad, k)) &&
                               Catch::Contains("member boom"));
    }
    // The engines go on: the next team runs.
    auto again = lv.apply_team(static_cast<unsigned>(k), comms_made);
    CHECK(again.size() == static_cast<std::size_t>(k));
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a team that runs again on the same engines makes no new communicator", "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto k = static_cast<unsigned>(c.ids().size());  // every engine: the same set each time
    std::vector<std::uint64_t> first = lv.apply_team(k, comms_made);
    std::vector<std::uint64_t> second = lv.apply_team(k, comms_made);
    std::vector<std::uint64_t> third = lv.with_flags({.engines = k}).apply_team(comms_made);
    for (std::size_t r = 0; r < k; ++r) {
      CHECK(first[r] >= 1);
      CHECK(second[r] == first[r]);
      CHECK(third[r] == first[r]);
    }
    CHECK(lv.apply(comm_outside_team));  // a one-engine task has no team communicator
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a megabyte goes through a team task and back from each member", "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto k = static_cast<unsigned>(std::min<std::size_t>(c.ids().size(), 4));
    std::vector<char> mb = mpiply_test::patterned_megabyte(7);
    std::vector<std::vector<char>> got = lv.apply_team(k, megabyte_member, mb);
    REQUIRE(got.size() == k);
    for (unsigned r = 0; r < k; ++r) {
      std::vector<char> want = mb;
      want[0] = static_cast<char>(r);
      CHECK(got[r] == want);
    }
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a team that cannot be is a UsageError at submission naming the fix", "[teams]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto n = static_cast<unsigned>(c.ids().size());
    CHECK_THROWS_WITH(lv.apply_team(n + 1, comms_made),
                      Catch::Contains(fmt::format("team of {} engines", n + 1)) &&
                          Catch::Contains(fmt::format("only {}", n)) &&
                          Catch::Contains(fmt::format("at least {} ranks", n + 2)));
    CHECK_THROWS_WITH(lv.apply_team(0u, comms_made), Catch::Contains("1 or more"));
    CHECK_THROWS_WITH(lv.with_flags({.isolate = true}).apply_team(1u, comms_made),
                      Catch::Contains("isolate"));
    CHECK_THROWS_WITH(lv.with_flags({.retries = 1}).apply_team(1u, comms_made),
                      Catch::Contains("retries"));
    if (n >= 2) {
      CHECK_THROWS_WITH(lv.with_flags({.engines = 2}).apply(one_engine, 1),
                        Catch::Contains("apply_team"));
      CHECK_THROWS_WITH(lv.map(one_engine, std::vector<int>{1, 2},
                               mpiply::MapOptions{.flags = {.engines = 2}}),
                        Catch::Contains("apply_team"));
    }
    CHECK(c.outstanding().empty());  // nothing was sent
    return 0;
  });
  CHECK(rc == 0);
}

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

namespace {

// Distinct (package, core) pairs of the CPUs whose ids cpu(i) gives, read from sysfs (a CPU
// without topology files counts as a core of its own).
template <class Cpu>
int count_cores(int n, Cpu cpu) {
  std::set<std::pair<long, long>> cores;
  for (int i = 0; i < n; ++i) {
    int id = cpu(i);
    if (id < 0) continue;
    std::string dir = fmt::format("/sys/devices/system/cpu/cpu{}/topology/", id);
    long package = -1, core = -1;
    std::ifstream(dir + "physical_package_id") >> package;
    std::ifstream(dir + "core_id") >> core;
    cores.emplace(package, core < 0 ? -1 - id : core);
  }
  return static_cast<int>(cores.size());
}

// On an engine: the cores of its CPU affinity, and of the whole machine (every online CPU).
std::vector<int> affinity_and_machine_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) throw std::runtime_error("sched_getaffinity");
  int bound = count_cores(CPU_SETSIZE, [&](int i) { return CPU_ISSET(i, &set) ? i : -1; });
  int online = 0;
  while (std::ifstream(fmt::format("/sys/devices/system/cpu/cpu{}/topology/core_id", online)))
    ++online;
  int machine = count_cores(online, [](int i) { return i; });
  return {bound, machine};
}

}  // namespace

MPIPLY_REGISTER(affinity_and_machine_cores);

// Registered by tests/CMakeLists.txt as test_cores_bound-* with Open MPI binding each rank to a
// core, to none, or with MPIPLY_ENGINE_THREADS=3 (MPIPLY_TEST_BINDING names which).
TEST_CASE("an engine's cores are its CPU binding's unless a variable names them", "[.][binding]") {
  const char* env = std::getenv("MPIPLY_TEST_BINDING");
  std::string mode = env ? env : "";
  REQUIRE((mode == "core" || mode == "none" || mode == "threads"));
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    REQUIRE_FALSE(c.ids().empty());
    for (int e : c.ids()) {
      std::vector<int> seen = c[e].apply(affinity_and_machine_cores);
      unsigned cores = c.engine_resources(e).cores;
      INFO("engine " << e << ": advertises " << cores << " cores, bound to " << seen[0]
                     << " of the machine's " << seen[1]);
      if (mode == "threads") {
        CHECK(cores == 3u);
      } else {
        CHECK(cores == static_cast<unsigned>(seen[0]));
        CHECK(seen[0] == (mode == "core" ? 1 : seen[1]));
      }
    }
    return 0;
  });
  CHECK(rc == 0);
}
