// Open MPI's yield-when-idle (src/support/idle_yield.hpp): on an oversubscribed node Open MPI makes every
// idle MPI call yield the core, which cost a chunksize-1 map at 3 ranks on 2 cores over half its
// speed. mpiply turns it off for its own polls only: the flag is found, a poll scope turns it off
// and puts it back, nested and overlapping scopes leave it as it began, and code in a task (which
// may make blocking MPI calls of its own) still runs with Open MPI's setting.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support/backoff.hpp"
#include "support/idle_yield.hpp"
#include "support.hpp"

using mpiply::detail::mpi_idle_yield_flag;
using mpiply::detail::NoIdleYield;

namespace {

// Whether Open MPI's flag was on in this task (1 or 0), read on the engine.
int yield_flag_in_task(int) {
  bool* f = mpi_idle_yield_flag();
  return f != nullptr && *f ? 1 : 0;
}
MPIPLY_REGISTER(yield_flag_in_task);

// Makes this engine poll as on a crowded node (runtime/node_crowding.hpp): every idle poll
// yields. The next mpiply::run sets it from the node again.
int crowd_this_engine(int on) {
  mpiply::detail::Backoff::set_crowded(on != 0);
  return mpiply::detail::Backoff::crowded() ? 1 : 0;
}
MPIPLY_REGISTER(crowd_this_engine);

long long square_item(int x) { return static_cast<long long>(x) * x; }
MPIPLY_REGISTER(square_item);

std::vector<double> reversed(std::vector<double> v) {
  std::reverse(v.begin(), v.end());
  return v;
}
MPIPLY_REGISTER(reversed);

// Ranks on this node against its cores (not this process's affinity: ranks may be bound to one
// core each): more ranks than cores is where Open MPI turns yield-when-idle on by default.
bool oversubscribed() {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return local != nullptr && std::atoi(local) > static_cast<int>(std::thread::hardware_concurrency());
}

// Sets the flag for one test and puts Open MPI's value back after it.
struct FlagAs {
  bool* f;
  bool was;
  explicit FlagAs(bool v) : f(mpi_idle_yield_flag()), was(*f) { *f = v; }
  ~FlagAs() { *f = was; }
};

}  // namespace

TEST_CASE("Open MPI's yield-when-idle flag is found, and is on when the node is oversubscribed",
          "[idle_yield]") {
  bool* f = mpi_idle_yield_flag();
  REQUIRE(f != nullptr);  // Open MPI is the stack; a rename in a new version must show here
  if (oversubscribed()) CHECK(*f);
}

TEST_CASE("a poll scope turns the yield off and puts it back", "[idle_yield]") {
  bool* f = mpi_idle_yield_flag();
  REQUIRE(f != nullptr);
  SECTION("on before: off inside, nested too, on after") {
    FlagAs as(true);
    {
      NoIdleYield outer;
      CHECK_FALSE(*f);
      {
        NoIdleYield inner;
        CHECK_FALSE(*f);
      }
      CHECK_FALSE(*f);  // the inner scope found it off and leaves it off
    }
    CHECK(*f);
  }
  SECTION("off before (not oversubscribed): stays off") {
    FlagAs as(false);
    { NoIdleYield q; CHECK_FALSE(*f); }
    CHECK_FALSE(*f);
  }
  SECTION("two threads polling at once leave it on") {
    FlagAs as(true);
    std::atomic<bool> go{false};
    auto body = [&] {
      while (!go.load()) {
      }
      for (int i = 0; i < 200'000; ++i) NoIdleYield q;
    };
    std::thread a(body), b(body);
    go = true;
    a.join();
    b.join();
    CHECK(*f);
  }
}

TEST_CASE("tasks run with Open MPI's own setting, not the polls' one", "[idle_yield]") {
  bool* f = mpi_idle_yield_flag();
  REQUIRE(f != nullptr);
  bool mpi_default = *f;
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    // Every engine (rank 0's inline engine at 1 rank) answers; several tasks each, so that
    // some arrive while the engine polls.
    auto got = c.load_balanced_view().map(yield_flag_in_task, mpiply_test::iota_vec(64));
    int want = mpi_default ? 1 : 0;
    CHECK(std::count(got.begin(), got.end(), want) == 64);
  });
  CHECK(rc == 0);
  CHECK(*f == mpi_default);  // and mpiply leaves it as it found it
}

TEST_CASE("on a crowded node, where every idle poll yields, every result still comes back right",
          "[idle_yield][crowding]") {
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    // The suite runs far below 32 ranks per CPU: start-up left the yield off.
    REQUIRE_FALSE(mpiply::detail::Backoff::crowded());
    mpiply::detail::Backoff::set_crowded(true);
    for (int id : c.ids()) REQUIRE(c[id].apply(crowd_this_engine, 1) == 1);

    auto items = mpiply_test::iota_vec(20'000);
    auto squares = c.load_balanced_view().map_async(square_item, items, {.chunksize = 1}).get();
    REQUIRE(squares.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      CHECK(squares[i] == static_cast<long long>(items[i]) * items[i]);

    std::vector<double> mb(1 << 17);  // a megabyte there and back
    for (std::size_t i = 0; i < mb.size(); ++i) mb[i] = static_cast<double>(i) * 0.5;
    for (int id : c.ids()) {
      auto back = c[id].apply(reversed, mb);
      REQUIRE(back.size() == mb.size());
      CHECK(back.front() == mb.back());
      CHECK(back.back() == mb.front());
    }
    for (int id : c.ids()) CHECK(c[id].apply(crowd_this_engine, 0) == 0);
    mpiply::detail::Backoff::set_crowded(false);
  });
  CHECK(rc == 0);
}
