// Callbacks, futures and waiting on several results: add_done_callback (once, on which thread,
// never under the client's lock, a throwing one reported), then(), wait_any / wait_all /
// as_completed over results of different types, and imap over an endless range with a bound on
// the tasks in flight.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <numeric>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using namespace std::chrono_literals;
using mpiply_test::run_client;

namespace {

double fut_sleep(double s) {
  std::this_thread::sleep_for(mpiply::Seconds(s));
  return s;
}
long fut_twice(long x) { return 2 * x; }
std::string fut_name(int x) { return "item" + std::to_string(x); }
int fut_fail(int x) {
  if (x == 7) throw std::domain_error("seven");
  return x;
}

// Captures what this process writes to stderr (fd 2) while alive.
class StderrCapture {
 public:
  StderrCapture() : path_("test_futures_stderr_" + std::to_string(::getpid())) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  std::string text() {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  ~StderrCapture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::remove(path_.c_str());
  }

 private:
  std::string path_;
  int saved_ = -1;
};

}  // namespace

MPIPLY_REGISTER(fut_sleep);
MPIPLY_REGISTER(fut_twice);
MPIPLY_REGISTER(fut_name);
MPIPLY_REGISTER(fut_fail);

TEST_CASE("add_done_callback runs once, outside the client lock; at once when already done",
          "[futures]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto ar = lv.apply_async(fut_sleep, 0.2);
    std::atomic<int> calls{0};
    std::promise<std::thread::id> ran_on;
    auto ran = ran_on.get_future();
    std::atomic<bool> seen_ok{false};
    ar.add_done_callback([&](const mpiply::AsyncResult<double>& r) {
      // These take the client's lock: a callback run under it would deadlock here. (Catch2's
      // CHECK is not thread-safe, so the callback only records what it saw.)
      bool ok = r.ready() && c.outstanding().size() <= c.history().size() && r.get() == 0.2;
      seen_ok = ok;
      if (++calls == 1) ran_on.set_value(std::this_thread::get_id());
    });
    CHECK(ar.get() == 0.2);
    REQUIRE(ran.wait_for(60s) == std::future_status::ready);
    auto tid = ran.get();
    // With engines: the waiting thread or the progress thread. Inline the task finished at
    // submission, so the callback ran at once, here.
    if (c.inline_mode()) CHECK(tid == std::this_thread::get_id());
    c.wait();
    CHECK(seen_ok);
    CHECK(calls == 1);

    // Nobody waits on this thread: the progress thread brings the result in and runs the
    // callback. (Asserted only when the result was still pending after the callback was added,
    // so the callback was certainly queued rather than run here at once.)
    if (!c.inline_mode()) {
      auto ar2 = lv.apply_async(fut_sleep, 0.3);
      std::promise<std::thread::id> p2;
      ar2.add_done_callback([&](const auto&) { p2.set_value(std::this_thread::get_id()); });
      bool queued = !ar2.ready();
      auto f2 = p2.get_future();
      REQUIRE(f2.wait_for(60s) == std::future_status::ready);  // a std::future: no mpiply wait
      if (queued) CHECK(f2.get() != std::this_thread::get_id());
    }

    // Already finished: runs before add_done_callback returns, on this thread.
    std::thread::id where;
    int now = 0;
    ar.add_done_callback([&](const mpiply::AsyncResult<double>&) {
      where = std::this_thread::get_id();
      ++now;
    });
    CHECK(now == 1);
    CHECK(where == std::this_thread::get_id());

    // A map's callback sees every item; a callback may submit more work.
    std::promise<long> sum;
    auto amr = lv.map_async(fut_twice, std::vector<long>{1, 2, 3, 4}, {.chunksize = 2});
    amr.add_done_callback([&](const mpiply::AsyncMapResult<long>& r) {
      auto v = r.get();
      long s = std::accumulate(v.begin(), v.end(), 0L);
      sum.set_value(lv.apply_async(fut_twice, s).get());
    });
    auto fs = sum.get_future();
    REQUIRE(fs.wait_for(60s) == std::future_status::ready);
    CHECK(fs.get() == 40);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a throwing callback is reported with its function and msg id; results still arrive",
          "[futures]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::string err;
    {
      StderrCapture cap;
      auto ar = lv.apply_async(fut_sleep, 0.05);
      auto id = ar.msg_ids()[0];
      std::promise<void> second;
      ar.add_done_callback([](const auto&) { throw std::runtime_error("callback boom"); });
      ar.add_done_callback([&](const auto&) { second.set_value(); });
      ar.get();
      // The second callback runs even though the first threw.
      REQUIRE(second.get_future().wait_for(60s) == std::future_status::ready);
      // Later results still arrive (the progress thread lives on), and their callbacks run.
      std::vector<double> ts(8, 0.001);
      auto more = lv.map_async(fut_sleep, ts);
      std::promise<void> third;
      more.add_done_callback([&](const auto&) { third.set_value(); });
      CHECK(more.get().size() == 8);
      REQUIRE(third.get_future().wait_for(60s) == std::future_status::ready);
      err = cap.text();
      CHECK(err.find("done callback of 'fut_sleep' (msg id " + std::to_string(id) + ")") !=
            std::string::npos);
    }
    CHECK(err.find("callback boom") != std::string::npos);
    CHECK(err.find("std::runtime_error") != std::string::npos);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("then() chains continuations; an error skips them and reaches get()", "[futures]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto f = lv.apply_async(fut_twice, 21L).then([](long x) { return std::to_string(x); });
    auto g = f.then([](const std::string& s) { return s + "!"; });
    CHECK(g.get(60s) == "42!");
    CHECK(f.ready());
    CHECK(f.get() == "42");

    // The map's values in input order.
    auto total = lv.map_async(fut_twice, std::vector<long>{1, 2, 3}).then([](const std::vector<long>& v) {
      return std::accumulate(v.begin(), v.end(), 0L);
    });
    CHECK(total.get() == 12);

    bool called = false;
    auto bad = lv.apply_async(fut_fail, 7).then([&](int) {
      called = true;
      return 0;
    });
    CHECK_THROWS_AS(bad.get(), mpiply::RemoteError);
    CHECK_FALSE(called);
    // An exception in the continuation itself comes back from get().
    auto thrower = lv.apply_async(fut_fail, 1).then([](int) -> int {
      throw std::logic_error("in then");
    });
    CHECK_THROWS_WITH(thrower.get(), "in then");
    // A void continuation gives a Future<None>; callbacks on a Future run once.
    std::atomic<int> n{0};
    auto v = lv.apply_async(fut_fail, 2).then([&](int) { ++n; });
    v.get();
    std::promise<void> p;
    v.add_done_callback([&](const auto&) { p.set_value(); });
    CHECK(p.get_future().wait_for(0s) == std::future_status::ready);  // already done: at once
    CHECK(n == 1);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("wait_any, wait_all and as_completed over results of different types", "[futures]") {
  int rc = run_client([](mpiply::Client& c) {
    auto e0 = c[0];
    // One engine answers in order: the names finish before the sleep.
    auto names = e0.map_async(fut_name, std::vector<int>{1, 2, 3});
    auto slow = e0.apply_async(fut_sleep, 0.3);
    auto i = mpiply::wait_any({slow, names}, 60s);
    REQUIRE(i);
    CHECK(*i == 1);
    CHECK(names.get()[2] == "item3");

    std::vector<std::size_t> order;
    for (std::size_t k : mpiply::as_completed({slow, names})) order.push_back(k);
    CHECK(order == std::vector<std::size_t>{1, 0});
    CHECK(mpiply::wait_all({slow, names}, 60s));
    CHECK(slow.get() == 0.3);

    if (!c.inline_mode()) {
      auto pending = e0.apply_async(fut_sleep, 2.0);
      CHECK_FALSE(mpiply::wait_any({pending}, 10ms));
      CHECK_FALSE(mpiply::wait_all({pending, names}, 10ms));
      auto ac = mpiply::as_completed({pending});
      CHECK_THROWS_AS(ac.next(10ms), mpiply::TimeoutError);
      CHECK(ac.next() == std::optional<std::size_t>(0));
      CHECK_FALSE(ac.next());
    }
    CHECK_THROWS_AS(mpiply::wait_any({}), mpiply::UsageError);
    return 0;
  });
  REQUIRE(rc == 0);
}

#if MPIPLY_TEST_STD_VIEWS
TEST_CASE("imap over an endless range keeps at most max_outstanding items in flight",
          "[futures][imap]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    const long chunk = 4, max_out = 16;
    auto results = lv.imap(fut_twice, std::views::iota(0L), {.chunksize = chunk,
                                                              .max_outstanding = max_out});
    long i = 0;
    std::size_t most_tasks = 0;
    for (long y : results) {
      CHECK(y == 2 * i);
      CHECK(results.outstanding() <= static_cast<std::size_t>(max_out));
      most_tasks = std::max(most_tasks, c.outstanding().size());
      if (++i == 3000) break;
    }
    CHECK(i == 3000);
    // The scheduler never held more than max_outstanding / chunksize of these tasks.
    CHECK(most_tasks <= static_cast<std::size_t>(max_out / chunk));
    // Only what was needed (plus the bounded look-ahead) was read from the endless input.
    CHECK(results.submitted() <= 3000 + static_cast<std::size_t>(max_out + chunk));
    return 0;
  });
  REQUIRE(rc == 0);
}
#endif

TEST_CASE("imap: unordered over a finite range, errors per item, bad options", "[futures][imap]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<long> xs(500);
    std::iota(xs.begin(), xs.end(), 0L);
    std::vector<long> got;
    for (long y : lv.imap(fut_twice, xs, {.chunksize = 7, .ordered = false})) got.push_back(y);
    std::sort(got.begin(), got.end());
    REQUIRE(got.size() == 500);
    for (long k = 0; k < 500; ++k) CHECK(got[static_cast<std::size_t>(k)] == 2 * k);

    // A failing item raises at its position; the iteration goes on after it.
    std::vector<int> in{5, 6, 7, 8};
    auto r = lv.imap(fut_fail, in, {.chunksize = 2});
    std::vector<int> ok;
    int failed = 0;
    for (auto it = r.begin(); it != r.end(); ++it) {
      try {
        ok.push_back(*it);
      } catch (const mpiply::RemoteError& e) {
        ++failed;
        CHECK(e.evalue() == "seven");
      }
    }
    CHECK(ok == std::vector<int>{5, 6, 8});
    CHECK(failed == 1);

    CHECK_THROWS_AS(lv.imap(fut_twice, xs, {.chunksize = 8, .max_outstanding = 4}),
                    mpiply::UsageError);
    CHECK_THROWS_AS(lv.imap(fut_twice, xs, {.chunksize = 0}), mpiply::UsageError);
    // An empty range yields nothing.
    auto none = lv.imap(fut_twice, std::vector<long>{});
    CHECK(none.begin() == none.end());
    return 0;
  });
  REQUIRE(rc == 0);
}
