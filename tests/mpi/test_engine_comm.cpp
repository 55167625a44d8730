// The engines as an MPI team: engine_comm() inside a task is a communicator of every engine
// (rank = engine id) on which collective functions run MPI collectives and neighbour exchanges;
// collective functions sent anywhere but to every engine at once are refused before anything is
// sent; ranks that disagree on which functions are collective stop at start-up.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::world_rank;
using mpiply_test::world_size;

namespace {

int team_rank() {
  int r = -1;
  MPI_Comm_rank(mpiply::engine_comm(), &r);
  return r;
}
int team_size() {
  int n = 0;
  MPI_Comm_size(mpiply::engine_comm(), &n);
  return n;
}

// Sum of every engine's id, through the engine communicator.
long team_id_sum() {
  long mine = mpiply::this_engine().id(), sum = -1;
  MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, mpiply::engine_comm());
  return sum;
}

// Sum of k * id over the engines: a collective function with a parameter, for map.
long team_scaled_sum(long k) {
  long mine = k * mpiply::this_engine().id(), sum = -1;
  MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, mpiply::engine_comm());
  return sum;
}

// {size, rank} of the engine communicator and the engine id. Not collective: asking the
// communicator about itself is local, so any task may.
std::array<int, 3> team_shape() { return {team_size(), team_rank(), mpiply::this_engine().id()}; }

// Every engine passes `bytes` bytes to its right-hand neighbour in a ring and checks what came
// from its left. Returns the left neighbour's id read from the payload, or -1 if any byte is off.
int ring_pass(int bytes) {
  const int n = team_size(), me = team_rank();
  const int right = (me + 1) % n, left = (me + n - 1) % n;
  auto byte_of = [](int id, int i) { return static_cast<unsigned char>((id * 131 + i) % 251); };
  std::vector<unsigned char> out(static_cast<std::size_t>(bytes)), in(out.size());
  for (int i = 0; i < bytes; ++i) out[std::size_t(i)] = byte_of(me, i);
  MPI_Sendrecv(out.data(), bytes, MPI_BYTE, right, 7, in.data(), bytes, MPI_BYTE, left, 7,
               mpiply::engine_comm(), MPI_STATUS_IGNORE);
  for (int i = 0; i < bytes; ++i)
    if (in[std::size_t(i)] != byte_of(left, i)) return -1;
  return left;
}

// 1 when the task runs on the thread that initialised MPI, the only one on an engine that may
// call it (src/runtime/thread_level.hpp); checked with an allreduce so every engine's answer
// counts.
int on_mpi_thread() {
  int mine = 0, all = 0;
  MPI_Is_thread_main(&mine);
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, mpiply::engine_comm());
  return all;
}

// Registered as collective on some ranks only, by a test below.
int flag_probe() { return 1; }

}  // namespace

MPIPLY_REGISTER_COLLECTIVE(team_id_sum);
MPIPLY_REGISTER_COLLECTIVE(team_scaled_sum);
MPIPLY_REGISTER_COLLECTIVE(ring_pass);
MPIPLY_REGISTER_COLLECTIVE(on_mpi_thread);
MPIPLY_REGISTER(team_shape);

namespace {

using mpiply_test::run_client;

long id_sum(long n) { return n * (n - 1) / 2; }

// f raises a UsageError that names the function and the fix, and nothing reaches the scheduler.
template <class F>
void check_refused(const mpiply::Client& c, F&& f, const std::string& fname) {
  auto before = c.history().size();
  try {
    f();
    FAIL_CHECK("a collective function was accepted where it must be refused: " << fname);
  } catch (const mpiply::UsageError& e) {
    std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("'" + fname + "'"));
    CHECK_THAT(what, Catch::Contains("MPIPLY_REGISTER_COLLECTIVE"));
    CHECK_THAT(what, Catch::Contains("rc[mpiply::all].apply(" + fname));
  }
  CHECK(c.history().size() == before);
  CHECK(c.outstanding().empty());
}

}  // namespace

TEST_CASE("the engine communicator has one rank per engine, rank = engine id",
          "[engine_comm]") {
  int rc = run_client([](mpiply::Client& c) {
    const int n = static_cast<int>(c.size());
    auto shapes = c[mpiply::all].apply(team_shape);
    REQUIRE(shapes.size() == std::size_t(n));
    for (int i = 0; i < n; ++i) CHECK(shapes[std::size_t(i)] == std::array<int, 3>{n, i, i});
    // Any task may ask about the communicator; only collectives need every engine.
    CHECK(c[-1].apply(team_shape) == std::array<int, 3>{n, n - 1, n - 1});
  });
  REQUIRE(rc == 0);
}

TEST_CASE("an allreduce over the engine communicator sums the engine ids", "[engine_comm]") {
  int rc = run_client([](mpiply::Client& c) {
    const long n = static_cast<long>(c.size());
    CHECK(c[mpiply::all].apply(team_id_sum) == std::vector<long>(c.size(), id_sum(n)));
    // Every engine once, in any order, is the whole team.
    auto ids = c.ids();
    std::vector<int> reversed(ids.rbegin(), ids.rend());
    CHECK(c[reversed].apply(team_scaled_sum, 3L) == std::vector<long>(c.size(), 3 * id_sum(n)));
    // Many in a row without waiting: each engine runs them in submission order.
    std::vector<mpiply::AsyncMapResult<long>> pending;
    for (long k = 0; k < 20; ++k) pending.push_back(c[mpiply::all].apply_async(team_scaled_sum, k));
    for (long k = 0; k < 20; ++k)
      CHECK(pending[std::size_t(k)].get() == std::vector<long>(c.size(), k * id_sum(n)));
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a megabyte per engine goes round the ring of engines", "[engine_comm]") {
  int rc = run_client([](mpiply::Client& c) {
    const int n = static_cast<int>(c.size());
    auto lefts = c[mpiply::all].apply(ring_pass, 1 << 20);
    REQUIRE(lefts.size() == std::size_t(n));
    for (int i = 0; i < n; ++i) CHECK(lefts[std::size_t(i)] == (i + n - 1) % n);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("collective functions are refused anywhere but on every engine, before sending",
          "[engine_comm]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    const long n = static_cast<long>(ids.size());
    std::vector<long> ks{1, 2, 3, 4, 5};
    if (ids.size() >= 2) {
      check_refused(c, [&] { c[std::vector<int>{ids[0]}].apply(team_id_sum); }, "team_id_sum");
      check_refused(c, [&] { c[-1].apply(team_id_sum); }, "team_id_sum");
      check_refused(c, [&] { c[0].apply_async(team_scaled_sum, 2L); }, "team_scaled_sum");
    } else {
      // One engine is the whole team, so client[0] is every engine.
      CHECK(c[0].apply(team_id_sum) == 0);
    }
    // An engine twice would run the collective twice against the others' once.
    std::vector<int> doubled = ids;
    doubled.push_back(ids[0]);
    check_refused(c, [&] { c[doubled].apply(team_id_sum); }, "team_id_sum");
    check_refused(c, [&] { c.load_balanced_view().apply(team_id_sum); }, "team_id_sum");
    check_refused(c, [&] { c.load_balanced_view().map(team_scaled_sum, ks); }, "team_scaled_sum");
    check_refused(c, [&] { c.load_balanced_view(ids).map_async(team_scaled_sum, ks); },
                  "team_scaled_sum");
    check_refused(c, [&] { c[mpiply::all].map(team_scaled_sum, ks); }, "team_scaled_sum");
    check_refused(c, [&] { c[mpiply::all].map_async(team_scaled_sum, ks, {.chunksize = 5}); },
                  "team_scaled_sum");
    check_refused(c, [&] { c[0].map(team_scaled_sum, ks); }, "team_scaled_sum");
    // The job carries on: the engines saw none of it.
    CHECK(c[mpiply::all].apply(team_id_sum) == std::vector<long>(ids.size(), id_sum(n)));
  });
  REQUIRE(rc == 0);
}

TEST_CASE("engine_comm() outside a task is a UsageError naming the fix", "[engine_comm]") {
  CHECK_THROWS_AS(mpiply::engine_comm(), mpiply::UsageError);
  int rc = run_client([](mpiply::Client& c) {
    try {
      (void)mpiply::engine_comm();
      FAIL_CHECK("engine_comm() on the client thread did not throw");
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains("outside a task"));
      CHECK_THAT(e.what(), Catch::Contains("rc[mpiply::all].apply"));
    }
    CHECK(c[mpiply::all].apply(team_id_sum).size() == c.size());
  });
  REQUIRE(rc == 0);
  CHECK_THROWS_AS(mpiply::engine_comm(), mpiply::UsageError);
}

TEST_CASE("ranks that disagree on whether a function is collective stop at start-up",
          "[engine_comm]") {
  if (world_size() == 1) return;
  if (world_rank() == world_size() - 1)
    mpiply::register_collective_function("flag_probe", flag_probe);
  else
    mpiply::register_function("flag_probe", flag_probe);
  bool ran = false;
  int rc = run_client([&](mpiply::Client&) { ran = true; });
  mpiply::detail::remove_function("flag_probe");
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
  // Agreeing again, the ranks start normally.
  mpiply::register_collective_function("flag_probe", flag_probe);
  rc = run_client([](mpiply::Client& c) {
    CHECK(c[mpiply::all].apply(flag_probe) == std::vector<int>(c.size(), 1));
  });
  mpiply::detail::remove_function("flag_probe");
  REQUIRE(rc == 0);
}

// With several threads per engine, a collective runs on the engine's MPI thread (workers never
// call MPI), in its place among the ordinary tasks around it.
TEST_CASE("collective functions on engines with several threads", "[engine_comm][threads]") {
  mpiply::RunOptions o;
  o.engine_threads = 3;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [](mpiply::Client& c) {
    long n = static_cast<long>(c.size());
    auto lb = c.load_balanced_view();
    for (int round = 0; round < 10; ++round) {
      // Ordinary tasks in flight on every engine while the collectives arrive.
      std::vector<mpiply::AsyncResult<std::array<int, 3>>> shapes;
      for (int k = 0; k < 64; ++k) shapes.push_back(lb.apply_async(team_shape));
      auto sums = c[mpiply::all].apply_async(team_scaled_sum, long(round + 1));
      auto ring = c[mpiply::all].apply_async(ring_pass, 1 << 20);
      for (int main_thread : c[mpiply::all].apply(on_mpi_thread)) CHECK(main_thread == 1);
      for (long s : sums.get(mpiply::Seconds(120))) CHECK(s == (round + 1) * id_sum(n));
      auto lefts = ring.get(mpiply::Seconds(120));
      for (long e = 0; e < n; ++e) CHECK(lefts[std::size_t(e)] == (e + n - 1) % n);
      for (auto& sh : shapes) CHECK(sh.get(mpiply::Seconds(120))[0] == n);
    }
  });
  REQUIRE(rc == 0);
}

// Rank 0's own engine is not in the engine communicator and may not call MPI, so a job that
// runs tasks on rank 0 refuses collectives before sending anything, and says what to change.
TEST_CASE("collective functions are refused when rank 0 runs tasks too", "[engine_comm]") {
  mpiply::RunOptions o;
  o.client_runs_tasks = true;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [](mpiply::Client& c) {
    if (world_size() == 1) {  // no engine ranks: the option does nothing, tasks run inline
      CHECK(c[mpiply::all].apply(team_id_sum) == std::vector<long>{0});
      return;
    }
    auto before = c.history().size();
    try {
      (void)c[mpiply::all].apply(team_id_sum);
      FAIL_CHECK("a collective was accepted with client_runs_tasks");
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("client_runs_tasks"));
      CHECK_THAT(std::string(e.what()), Catch::Contains("'team_id_sum'"));
    }
    CHECK(c.history().size() == before);
    // Ordinary tasks still run everywhere, rank 0's engine included.
    auto shapes = c[mpiply::all].apply(team_shape);
    CHECK(shapes.size() == c.size());
  });
  REQUIRE(rc == 0);
}
