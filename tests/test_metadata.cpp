// AsyncResult waiting and timing (get/wait with timeouts, ready, successful, elapsed, progress,
// serial/wall time, timedelta, msg ids, sent) and per-task metadata. With one rank tasks run at
// submission, so the "still pending" checks only apply when there are engines.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

using mpiply_test::run_client;

// Engine timestamps are aligned to rank 0's clock at start-up; allow this much alignment error
// when comparing a client stamp with an engine stamp.
constexpr auto kSlack = 2ms;

}  // namespace

// A fixture task that *is* slow: it sleeps, then returns what it was given.
double meta_sleep(double seconds) {
  std::this_thread::sleep_for(mpiply::Seconds(seconds));
  return seconds;
}
MPIPLY_REGISTER(meta_sleep);

long meta_getpid() { return static_cast<long>(::getpid()); }
MPIPLY_REGISTER(meta_getpid);

int meta_fail() { throw std::runtime_error("meta failure"); }
MPIPLY_REGISTER(meta_fail);

TEST_CASE("get(timeout) raises TimeoutError on a slow task and nothing is lost", "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(meta_sleep, 1.0);
    if (!c.inline_mode()) {
      CHECK_FALSE(ar.ready());
      CHECK_THROWS_AS(ar.get(20ms), mpiply::TimeoutError);
      CHECK_FALSE(ar.wait(20ms));
      CHECK_THROWS_AS(ar.successful(), mpiply::NotReadyError);
      CHECK(ar.progress() == 0);
    }
    CHECK(ar.size() == 1);
    // The timed-out waits lost nothing: the value still arrives.
    CHECK(ar.get() == 1.0);
    CHECK(ar.wait(20ms));
    CHECK(ar.wait());
    CHECK(ar.ready());
    CHECK(ar.successful());
    CHECK(ar.progress() == 1);
    CHECK(ar.get(20ms) == 1.0);  // ready: a timeout no longer matters
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("elapsed is positive and grows; progress and size count items", "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[mpiply::all].apply_async(meta_sleep, 0.2);
    double e1 = ar.elapsed();
    CHECK(e1 > 0.0);
    CHECK(ar.size() == c.ids().size());
    CHECK(ar.progress() <= ar.size());
    ar.wait();
    double e2 = ar.elapsed();
    CHECK(e2 > e1);
    CHECK(ar.progress() == ar.size());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("serial_time, wall_time and timedelta", "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(meta_sleep, 0.1);
    ar.get();
    // completed - started brackets the sleep on the engine's (aligned) clock.
    CHECK(ar.serial_time() >= 0.1);
    // For one task wall = (started - submitted) + serial + (received - completed); the clock
    // offset cancels between the two outer terms, so wall >= serial exactly.
    CHECK(ar.wall_time() >= ar.serial_time());
    CHECK(mpiply::AsyncResultBase::timedelta(ar.submitted(), ar.received()) == ar.wall_time());
    CHECK(ar.timedelta(ar.started(), ar.completed()) == Approx(ar.serial_time()).margin(1e-9));
    // Custom keys: earliest start to earliest end.
    CHECK(ar.timedelta(ar.submitted(), ar.received(), &mpiply::AsyncResultBase::earliest,
                       &mpiply::AsyncResultBase::earliest) == ar.wall_time());

    // Several tasks: serial is the sum of the per-task spans.
    auto all = c[mpiply::all].apply_async(meta_sleep, 0.05);
    all.get();
    CHECK(all.serial_time() >= 0.05 * static_cast<double>(c.ids().size()));
    CHECK(all.timedelta(all.submitted(), all.received()) == all.wall_time());
    CHECK(all.submitted().size() == c.ids().size());
    CHECK(all.received().size() == c.ids().size());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("msg_ids are distinct and increasing; sent() after wait_for_send()", "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto a = c[mpiply::all].apply_async(meta_getpid);
    auto b = c.load_balanced_view().apply_async(meta_getpid);
    auto ia = a.msg_ids();
    auto ib = b.msg_ids();
    CHECK(ia.size() == c.ids().size());
    REQUIRE(ib.size() == 1);
    CHECK(std::adjacent_find(ia.begin(), ia.end(), std::greater_equal<>()) == ia.end());
    CHECK(ia.back() < ib.front());
    a.wait_for_send();
    CHECK(a.sent());
    b.wait_for_send(30s);
    CHECK(b.sent());
    a.get();
    b.get();
    CHECK(a.sent());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("metadata per task: ids, engine, status, ordered stamps, rank, host, pid", "[meta]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[mpiply::all].apply_async(meta_getpid);
    std::map<int, long> pids = ar.get_dict();
    auto md = ar.metadata();
    auto ids = ar.msg_ids();
    REQUIRE(md.size() == c.ids().size());
    for (std::size_t i = 0; i < md.size(); ++i) {
      const auto& m = md[i];
      INFO("task " << i << " engine " << m.engine_id);
      CHECK(m.msg_id == ids[i]);
      CHECK(m.engine_id == c.ids()[i]);
      CHECK(m.status == mpiply::TaskStatus::ok);
      CHECK(std::string(mpiply::to_string(m.status)) == "ok");
      CHECK(m.function == "meta_getpid");
      CHECK(m.error.empty());
      CHECK(m.items == 1);
      REQUIRE(m.submitted);
      REQUIRE(m.started);
      REQUIRE(m.completed);
      REQUIRE(m.received);
      CHECK(*m.submitted <= *m.started + kSlack);
      CHECK(*m.started <= *m.completed);
      CHECK(*m.completed <= *m.received + kSlack);
      CHECK(m.rank == (c.inline_mode() ? 0 : m.engine_id + 1));
      CHECK_FALSE(m.hostname.empty());
      CHECK(m.pid == pids.at(m.engine_id));
      // The client-wide view of the same task.
      auto cm = c.metadata(m.msg_id);
      CHECK(cm.msg_id == m.msg_id);
      CHECK(cm.engine_id == m.engine_id);
      CHECK(cm.status == m.status);
      CHECK(cm.pid == m.pid);
      CHECK(cm.received == m.received);
    }
    auto hist = c.history();
    for (auto id : ids) CHECK(std::find(hist.begin(), hist.end(), id) != hist.end());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("metadata of a failed task has status error; successful() is false", "[meta]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[-1].apply_async(meta_fail);
    CHECK(ar.wait(60s));
    CHECK(ar.ready());
    CHECK_FALSE(ar.successful());
    CHECK_THROWS_AS(ar.get(), mpiply::RemoteError);
    auto md = ar.metadata();
    REQUIRE(md.size() == 1);
    CHECK(md[0].status == mpiply::TaskStatus::error);
    CHECK(md[0].engine_id == c.ids().back());
    CHECK_THAT(md[0].error, Catch::Contains("meta failure"));
    CHECK(md[0].completed.has_value());
    CHECK(md[0].received.has_value());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("history contains every task; outstanding is empty after rc.wait()", "[meta]") {
  int rc = run_client([](mpiply::Client& c) {
    std::vector<mpiply::AsyncResult<double>> ars;
    auto lbv = c.load_balanced_view();
    for (int i = 0; i < 12; ++i) ars.push_back(lbv.apply_async(meta_sleep, 0.01));
    auto hist = c.history();
    for (auto& ar : ars)
      CHECK(std::find(hist.begin(), hist.end(), ar.msg_ids()[0]) != hist.end());
    CHECK(c.wait(120s));
    CHECK(c.outstanding().empty());
    for (auto& ar : ars) CHECK(ar.ready());
    CHECK(c.wait());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("received is stamped on arrival while the client thread is busy", "[meta]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(meta_sleep, 0.05);
    // Busy the client thread for 400 ms without calling into mpiply. ipyparallel would stamp
    // `received` at the next poll (~350 ms late); mpiply must stamp it when the result lands.
    auto until = std::chrono::steady_clock::now() + 400ms;
    volatile unsigned long spins = 0;
    while (std::chrono::steady_clock::now() < until) spins = spins + 1;
    CHECK(ar.get() == 0.05);
    auto md = ar.metadata();
    REQUIRE(md.size() == 1);
    REQUIRE(md[0].completed);
    REQUIRE(md[0].received);
    auto lag = *md[0].received - *md[0].completed;
    INFO("received - completed = "
         << std::chrono::duration_cast<std::chrono::microseconds>(lag).count() << " us");
    CHECK(lag < 150ms);
    CHECK(lag > -kSlack);
    return 0;
  });
  REQUIRE(rc == 0);
}
