// Which clock measures what. Deadlines (get/wait timeouts, Client::wait) and back-off windows run
// on the steady clock, so a wall-clock step cannot make a wait end early, run far too long, or
// make a rank spin; metadata stamps stay on the (rank-0-aligned) wall clock. The clock types are
// checked at compile time, on the scheduler's own wait entry; the waits are checked for what they
// promise on that clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <type_traits>

#include <mpiply/mpiply.hpp>

#include "runtime/startup.hpp"
#include "support/backoff.hpp"
#include "support.hpp"

namespace {

// The deadline type the scheduler's wait takes, read off core_wait's signature.
template <class F>
struct wait_deadline;
template <class R, class A, class B, class C, class D>
struct wait_deadline<R (*)(A, B, C, D)> {
  using type = typename std::remove_cvref_t<D>::value_type;
};
using WaitDeadline = wait_deadline<decltype(&mpiply::detail::core_wait)>::type;

static_assert(WaitDeadline::clock::is_steady,
              "deadlines of waits must be on a steady clock: a wall-clock step would move them");
static_assert(mpiply::detail::Backoff::clock::is_steady,
              "back-off windows must be on a steady clock: a step back would make a rank spin");
static_assert(std::is_same_v<mpiply::TimePoint::clock, std::chrono::system_clock>,
              "metadata stamps are wall-clock times, comparable across ranks");

double clock_sleep(double seconds) {
  std::this_thread::sleep_for(mpiply::Seconds(seconds));
  return seconds;
}

}  // namespace

MPIPLY_REGISTER(clock_sleep);

TEST_CASE("a wait that times out has waited its timeout on the steady clock", "[clock]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(clock_sleep, 1.0);
    auto t0 = std::chrono::steady_clock::now();
    bool done = ar.wait(mpiply::Seconds(0.05));
    auto waited = std::chrono::steady_clock::now() - t0;
    if (c.inline_mode()) {
      // The task ran at submission: the wait returns at once, whatever the timeout.
      CHECK(done);
    } else {
      CHECK_FALSE(done);
      // Never early: false means the whole timeout passed.
      CHECK(waited >= std::chrono::milliseconds(50));
    }
    CHECK(ar.get() == 1.0);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("elapsed() is measured on the steady clock from submission", "[clock]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto before = std::chrono::steady_clock::now();
    auto ar = c.load_balanced_view().apply_async(clock_sleep, 0.01);
    double e1 = ar.elapsed();
    ar.wait();
    double e2 = ar.elapsed();
    double outer = mpiply::Seconds(std::chrono::steady_clock::now() - before).count();
    CHECK(e1 >= 0.0);
    CHECK(e2 >= e1);
    CHECK(e2 <= outer);  // submission happened after `before`
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("Client::wait with a timeout uses a steady deadline", "[clock]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(clock_sleep, 1.0);
    auto t0 = std::chrono::steady_clock::now();
    bool idle = c.wait(mpiply::Seconds(0.05));
    auto waited = std::chrono::steady_clock::now() - t0;
    if (c.inline_mode()) {
      CHECK(idle);
    } else {
      CHECK_FALSE(idle);
      CHECK(waited >= std::chrono::milliseconds(50));
    }
    CHECK(c.wait());
    CHECK(ar.ready());
    return 0;
  });
  REQUIRE(rc == 0);
}

namespace {

// The clock offset start-up gave this engine (runtime/clock_alignment.hpp).
std::int64_t engine_clock_offset() { return mpiply::detail::last_startup_phases().clock_offset_ns; }
MPIPLY_REGISTER(engine_clock_offset);

}  // namespace

// Every rank of a test runs under this machine's one kernel, so they read one wall clock: an
// estimate from round trips could only add its error (up to half a round trip) to every stamp.
TEST_CASE("engines under rank 0's kernel take its wall clock as it is, with no round trip",
          "[clock]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    CHECK(mpiply::detail::last_startup_phases().clock_engines_measured == 0);
    auto offsets = c[mpiply::all].apply_async(engine_clock_offset).get();
    CHECK(offsets.size() == c.ids().size());
    for (std::int64_t o : offsets) CHECK(o == 0);
    return 0;
  });
  REQUIRE(rc == 0);
}
