// Team tasks end to end (docs/resources.md, Teams): LoadBalancedView::apply_team(k, f, ...) runs
// f on k idle engines at once; inside it mpiply::task_comm() is a communicator of exactly those
// k, team rank in ascending engine id, so an MPI_Allreduce over it sums the members only. Teams
// of several sizes run side by side on disjoint engines while one-engine tasks use the rest; many
// teams of mixed sizes all complete; a member that raises fails the team naming it; a repeated
// team reuses its communicator; a team larger than the engines is a UsageError at submission.
// map_team's cases are in test_team_map.cpp. The [binding] case checks an engine's cores against
// its CPU binding (tests/CMakeLists.txt).
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

}  // namespace

using team_test::check_team;
using team_test::comms_made;
using team_test::member;
using team_test::one_engine;
using team_test::Seen;

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
