// AsyncResult waiting and timing (get/wait with timeouts, ready, successful, elapsed, progress,
// serial/wall time, timedelta, msg ids, sent) and per-task metadata. With one rank tasks run at
// submission, so where engines would leave a task pending the inline checks assert that it is
// already finished. No timing bounds here (those are the benchmark's): stamps are checked for
// presence and for ordering on one clock.
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

// Sum over tasks of completed - started, from the metadata.
double sum_of_spans(const std::vector<mpiply::TaskMetadata>& md) {
  double s = 0;
  for (const auto& m : md) s += mpiply::Seconds(*m.completed - *m.started).count();
  return s;
}

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
    } else {
      // The task ran at submission: nothing to time out on.
      CHECK(ar.ready());
      CHECK(ar.wait(20ms));
      CHECK(ar.progress() == 1);
      CHECK(ar.successful());
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

TEST_CASE("elapsed is defined while pending and never decreases; progress and size count items",
          "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[mpiply::all].apply_async(meta_sleep, 0.2);
    double e1 = ar.elapsed();  // no NotReadyError: elapsed is meant for pending results
    CHECK(e1 >= 0.0);
    CHECK(ar.size() == c.ids().size());
    CHECK(ar.progress() <= ar.size());
    ar.wait();
    double e2 = ar.elapsed();
    CHECK(e2 >= e1);
    CHECK(ar.progress() == ar.size());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("serial_time, wall_time and timedelta", "[async]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(meta_sleep, 0.1);
    ar.get();
    // serial is completed - started, two stamps of the engine's clock.
    CHECK(ar.serial_time() > 0.0);
    CHECK(ar.serial_time() == Approx(sum_of_spans(ar.metadata())).margin(1e-9));
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
    CHECK(all.serial_time() == Approx(sum_of_spans(all.metadata())).margin(1e-9));
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
      // Ordered on each clock: rank 0 stamps submitted and received, the engine started and
      // completed (its clock aligned to rank 0's only to within the alignment error).
      CHECK(*m.submitted <= *m.received);
      CHECK(*m.started <= *m.completed);
      // Inline, one clock stamps all four: the whole order holds exactly.
      if (c.inline_mode()) {
        CHECK(*m.submitted <= *m.started);
        CHECK(*m.completed <= *m.received);
      }
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
    // The client thread never waits: ready() only reads the state, it drives no MPI. With
    // engines, the result can only arrive through the progress thread, which stamps `received`
    // as it lands (ipyparallel stamps it at the client's next poll). Inline, the task finished
    // at submission.
    if (c.inline_mode()) CHECK(ar.ready());
    auto bound = std::chrono::steady_clock::now() + 60s;
    while (!ar.ready() && std::chrono::steady_clock::now() < bound) std::this_thread::yield();
    REQUIRE(ar.ready());
    auto seen = mpiply::WallClock::now();
    auto md = ar.metadata();
    REQUIRE(md.size() == 1);
    REQUIRE(md[0].received);
    CHECK(*md[0].submitted <= *md[0].received);
    CHECK(*md[0].received <= seen);  // stamped before the client looked, not when it looked
    CHECK(ar.get() == 0.05);
    CHECK(ar.metadata()[0].received == md[0].received);  // get() does not restamp it
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("wall_time and serial_time raise NotReadyError while pending", "[async][meta]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(meta_sleep, 1.0);
    auto all = c[mpiply::all].apply_async(meta_sleep, 0.5);
    if (!c.inline_mode()) {
      // ipyparallel raises here too: a partial sum or a zero would read as an answer.
      for (const mpiply::AsyncResultBase* r : {static_cast<mpiply::AsyncResultBase*>(&ar),
                                               static_cast<mpiply::AsyncResultBase*>(&all)}) {
        if (r->ready()) continue;  // (all) finished already on a slow machine: nothing to check
        try {
          (void)r->wall_time();
          FAIL_CHECK("wall_time() answered while pending");
        } catch (const mpiply::NotReadyError& e) {
          CHECK_THAT(std::string(e.what()), Catch::Contains("wall_time()"));
          CHECK_THAT(std::string(e.what()), Catch::Contains("wait() first"));
        }
        CHECK_THROWS_AS(r->serial_time(), mpiply::NotReadyError);
        CHECK_NOTHROW(r->elapsed());
        CHECK_NOTHROW(r->metadata());
        CHECK_NOTHROW(r->submitted());
      }
    }
    ar.wait();
    all.wait();
    // Finished (or inline, finished at submission): both answer.
    CHECK(ar.wall_time() >= ar.serial_time());
    CHECK(all.serial_time() > 0.0);
    CHECK(all.wall_time() > 0.0);
    return 0;
  });
  REQUIRE(rc == 0);
}
