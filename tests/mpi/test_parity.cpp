// IPython Parallel parity (issue 22): the calls that answer as ipyparallel's do. Hub handles count
// elapsed() from submission; a running task may be resubmitted; purge_local_results(all) refuses
// outstanding tasks and takes purged ids out of results() and metadata(); a handle that fetched
// its result owns it (results() no longer lists it, get_result still reads it); imap reads its
// input only as the consumer advances; Dependency evaluated locally; a map of References as an
// argument; Client::clear; abort and get_result on views; load_balanced_view(id / all); untyped
// hub handles read their values; published integers read back as the caller's type; db_query's
// $in over a container known at run time.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <numeric>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

double par_square(double x) { return x * x; }
long par_twice(long x) { return 2 * x; }
int par_odd_fails(int x) {
  if (x % 2) throw std::runtime_error("odd " + std::to_string(x));
  return x;
}
double par_nap(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // the task's work
  return seconds;
}
int par_held(std::string gate, int x) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return x;
}
// A megabyte of doubles back from each call: the hub keeps what the handle reads.
std::vector<double> par_block(int seed) {
  return std::vector<double>((1 << 20) / sizeof(double), static_cast<double>(seed));
}
// The sizes and a checksum of the values a map of References resolved to on the engine.
std::vector<std::int64_t> par_sizes(std::map<std::string, std::vector<char>> named) {
  std::vector<std::int64_t> out;
  for (const auto& [key, v] : named) {
    out.push_back(static_cast<std::int64_t>(v.size()));
    out.push_back(std::accumulate(v.begin(), v.end(), std::int64_t(0)));
  }
  return out;
}
int par_publish_int(int i) {
  mpiply::publish_data({{"i", i}, {"n", std::size_t(3)}, {"half", 0.5f}});
  return i;
}

constexpr auto kBound = std::chrono::seconds(120);

}  // namespace

MPIPLY_REGISTER(par_square);
MPIPLY_REGISTER(par_twice);
MPIPLY_REGISTER(par_odd_fails);
MPIPLY_REGISTER(par_nap);
MPIPLY_REGISTER(par_held);
MPIPLY_REGISTER(par_block);
MPIPLY_REGISTER(par_sizes);
MPIPLY_REGISTER(par_publish_int);

using Catch::Matchers::Contains;
using mpiply::MsgId;

TEST_CASE("a hub handle's elapsed() counts from the task's submission", "[parity][hub]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto ar = c[0].apply_async(par_nap, 0.2);
    REQUIRE(ar.get(kBound) == 0.2);
    double live = ar.elapsed();
    auto hub = c.get_result(ar);
    auto typed = c.get_result<double>(ar.msg_ids());
    // The task took 0.2 s after its submission, so both count at least that; the hub's handle
    // is made after the live one read its clock.
    CHECK(live >= 0.2);
    CHECK(hub.elapsed() >= 0.2);
    CHECK(typed.elapsed() >= 0.2);
    CHECK(hub.elapsed() >= live - 0.01);  // the same start, carried over from the wall clock
    CHECK(hub.wall_time() == Approx(ar.wall_time()));
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task still running can be resubmitted under a new msg id", "[parity][hub]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();  // one rank: the task runs inside apply_async
    auto h = c[0].apply_async(par_held, gate.path(), 7);
    if (!c.inline_mode()) REQUIRE(gate.wait_started(0));
    auto again = c.resubmit<int>(h);
    REQUIRE(again.msg_ids().size() == 1);
    CHECK(again.msg_ids()[0] != h.msg_ids()[0]);
    gate.open();
    CHECK(h.get(kBound) == 7);
    CHECK(again.get(kBound) == std::vector<int>{7});
    CHECK(c.metadata(again.msg_ids()[0]).engine_id == 0);  // a direct task: the same engine
  });
  REQUIRE(rc == 0);
}

TEST_CASE("purge_local_results(all) with tasks outstanding raises and purges nothing",
          "[parity][purge]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto done = c.load_balanced_view().apply_async(par_square, 3.0);
    REQUIRE(done.get(kBound) == 9.0);
    if (c.inline_mode()) return;  // nothing can be outstanding with one rank
    hub_test::Gate gate;
    auto h = c[0].apply_async(par_held, gate.path(), 1);
    REQUIRE(gate.wait_started(0));
    for (auto purge : {&mpiply::Client::purge_local_results, &mpiply::Client::purge_results}) {
      try {
        (c.*purge)(mpiply::all, {});
        FAIL("expected UsageError");
      } catch (const mpiply::UsageError& e) {
        CHECK_THAT(e.what(), Contains("can't purge outstanding tasks"));
        CHECK_THAT(e.what(), Contains(std::to_string(h.msg_ids()[0])));
      }
    }
    CHECK_THROWS_AS(c.purge_everything(), mpiply::UsageError);
    CHECK(c.get_result<double>(done).get() == std::vector<double>{9.0});  // nothing was purged
    // The hub's purge skips outstanding tasks, as ipyparallel's hub does.
    c.purge_hub_results(mpiply::all);
    CHECK(c.hub_history() == h.msg_ids());
    gate.open();
    CHECK(h.get(kBound) == 1);
    c.purge_local_results(mpiply::all);  // nothing outstanding now
    CHECK(c.results().empty());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("after purge_local_results the ids leave results() and metadata()", "[parity][purge]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto m = lv.map_async(par_block, std::vector<int>{1, 2, 3, 4});
    REQUIRE(m.wait(kBound));  // waited for, not fetched: still in results()
    std::vector<MsgId> ids = m.msg_ids();
    for (MsgId id : ids) {
      CHECK(c.results().count(id) == 1);
      CHECK(c.metadata().count(id) == 1);
    }
    std::vector<MsgId> half(ids.begin(), ids.begin() + 2);
    c.purge_local_results(half);
    for (MsgId id : half) {
      CHECK(c.results().count(id) == 0);
      CHECK(c.metadata().count(id) == 0);
      CHECK(c.metadata(id).status == mpiply::TaskStatus::ok);  // the hub's record stays
    }
    for (MsgId id : std::vector<MsgId>(ids.begin() + 2, ids.end())) {
      CHECK(c.results().count(id) == 1);
      CHECK(c.metadata().count(id) == 1);
    }
    CHECK(c.hub_history().size() == ids.size());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a handle owns the result it fetched; the hub's copy stays for get_result",
          "[parity][hub]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto a = lv.apply_async(par_block, 5);
    REQUIRE(a.wait(kBound));
    MsgId id = a.msg_ids()[0];
    CHECK(c.results().count(id) == 1);  // not fetched yet
    CHECK(a.get().size() == (1u << 20) / sizeof(double));
    CHECK(c.results().count(id) == 0);  // the handle took it
    CHECK(c.result_status(a, false).results.count(id) == 1);  // the hub still has it
    CHECK(c.get_result<std::vector<double>>(id).get().at(0).at(7) == 5.0);
    // A hub handle reads without taking.
    auto b = lv.apply_async(par_block, 6);
    REQUIRE(b.wait(kBound));
    CHECK(c.get_result<std::vector<double>>(b).get().at(0).at(0) == 6.0);
    CHECK(c.results().count(b.msg_ids()[0]) == 1);
    // A map that raised took its results too (get re-raised, the values are the handle's).
    auto m = lv.map_async(par_odd_fails, std::vector<int>{0, 1, 2});
    CHECK_THROWS_AS(m.get(kBound), mpiply::CompositeError);
    for (MsgId mid : m.msg_ids()) CHECK(c.results().count(mid) == 0);
    CHECK(m.get(mpiply::return_exceptions).at(0).value() == 0);
  });
  REQUIRE(rc == 0);
}

#if MPIPLY_TEST_STD_VIEWS
TEST_CASE("imap reads its input only as the consumer advances, never more than n ahead",
          "[parity][imap]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    long reads = 0;
    auto input = std::views::iota(0L) | std::views::transform([&reads](long i) {
                   ++reads;
                   return i;
                 });
    const long n = 3;
    auto r = lv.imap(par_twice, std::move(input), {.max_outstanding = n});
    auto it = r.begin();
    CHECK(reads == n);  // the first n items went out together
    for (long k = 0; k < 20; ++k) {
      REQUIRE(*it == 2 * k);
      CHECK(reads == n + k);  // reading item k read nothing new
      CHECK(r.outstanding() <= static_cast<std::size_t>(n));
      ++it;
      CHECK(reads == n + k + 1);  // advancing read exactly one more
    }
  });
  REQUIRE(rc == 0);
}
#endif

TEST_CASE("imap takes return_exceptions and MapOptions", "[parity][imap]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<int> xs(40);
    std::iota(xs.begin(), xs.end(), 0);
    mpiply::MapOptions o{.chunksize = 3, .ordered = true, .max_outstanding = 9};
    std::size_t i = 0;
    for (const mpiply::Outcome<int>& out : lv.imap(par_odd_fails, xs, mpiply::return_exceptions, o)) {
      if (i % 2) {
        REQUIRE_FALSE(out.ok());
        CHECK_THAT(out.error().what(), Contains("odd " + std::to_string(i)));
      } else {
        REQUIRE(out.ok());
        CHECK(out.value() == static_cast<int>(i));
      }
      ++i;
    }
    CHECK(i == xs.size());
    // map has no use for max_outstanding: a clear error, nothing sent.
    CHECK_THROWS_AS(lv.map_async(par_square, std::vector<double>{1}, {.max_outstanding = 2}),
                    mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("Dependency::check and unreachable follow ipyparallel", "[parity][dependency]") {
  const MsgId a{11}, b{12}, x{13};
  const std::vector<MsgId> none;
  mpiply::Dependency both(a, b);  // all, success only
  CHECK_FALSE(both.check({a}));
  CHECK(both.check({a, b, x}));
  CHECK_FALSE(both.check({a}, {b}));
  CHECK(both.unreachable({a}, {b}));  // b failed: all-of-success can never hold
  CHECK_FALSE(both.unreachable({a}, none));

  auto any = mpiply::Dependency(a, b).any();
  CHECK(any.check({b}));
  CHECK_FALSE(any.unreachable(none, {a}));
  CHECK(any.unreachable(none, {a, b}));

  auto fail = mpiply::Dependency(a).on_failure();
  CHECK(fail.check(none, {a}));
  CHECK_FALSE(fail.check({a}, none));
  CHECK(fail.unreachable({a}, none));

  auto finish = mpiply::Dependency(a, b).on_finish();
  CHECK(finish.check({a}, {b}));
  CHECK_FALSE(finish.unreachable({a}, {b}));
  CHECK_FALSE(finish.check({a}, none));

  CHECK(mpiply::Dependency().check(none));
  CHECK_FALSE(mpiply::Dependency().unreachable(none, {a}));
}

TEST_CASE("a std::map of References is resolved on the engine", "[parity][reference]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto big = mpiply_test::patterned_megabyte(3);
    std::vector<char> small{1, 2, 3};
    auto dv = c.direct_view();
    dv.push({{"big", big}, {"small", small}});
    std::map<std::string, mpiply::Reference<>> named{{"b", mpiply::Reference<>("big")},
                                                     {"s", mpiply::Reference<>("small")}};
    std::int64_t sum = std::accumulate(big.begin(), big.end(), std::int64_t(0));
    std::vector<std::int64_t> want{static_cast<std::int64_t>(big.size()), sum, 3, 6};
    CHECK(dv.apply_sync(par_sizes, named) == std::vector<std::vector<std::int64_t>>(c.size(), want));
    // A missing name fails the task on the engine, naming it.
    std::map<std::string, mpiply::Reference<std::vector<char>>> missing{
        {"m", mpiply::Reference<std::vector<char>>("nowhere")}};
    try {
      c[0].apply_async(par_sizes, missing).get(kBound);
      FAIL("expected RemoteError");
    } catch (const mpiply::RemoteError& e) {
      CHECK_THAT(e.what(), Contains("nowhere"));
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("Client::clear empties every namespace or the given engines'", "[parity][namespace]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.push({{"a", 1}});
    int last = c.ids().back();
    c.clear({last});
    CHECK_THROWS_AS(c[last].pull<int>("a"), mpiply::RemoteError);
    if (c.size() > 1) CHECK(c[0].pull<int>("a") == 1);  // the others keep theirs
    c.clear();
    CHECK_THROWS_AS(c[0].pull<int>("a"), mpiply::RemoteError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("views abort and read kept results; load_balanced_view takes an id or all",
          "[parity][views]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view(mpiply::all);
    auto sq = lv.apply_async(par_square, 4.0);
    REQUIRE(sq.get(kBound) == 16.0);
    // get_result on a view, typed and untyped; the untyped handle reads with get_as<T>.
    CHECK(lv.get_result<double>(sq).get() == std::vector<double>{16.0});
    auto untyped = c[0].get_result(sq.msg_ids());
    CHECK(untyped.get_as<double>() == std::vector<double>{16.0});
    CHECK(c.get_result(sq).get_as<double>() == std::vector<double>{16.0});
    CHECK_THROWS_AS(untyped.get_as<int>(), mpiply::UsageError);

    int last = c.ids().back();
    auto one = c.load_balanced_view(last);
    auto r = one.map_async(par_square, std::vector<double>{1, 2, 3});
    CHECK(r.get(kBound) == std::vector<double>{1, 4, 9});
    for (const auto& m : r.metadata()) CHECK(m.engine_id == last);
    CHECK_THROWS_AS(c.load_balanced_view(static_cast<int>(c.size())), mpiply::UsageError);

    if (c.inline_mode()) return;  // nothing waits behind a running task with one rank
    hub_test::Gate gate;
    auto e0 = c[0];
    auto running = e0.apply_async(par_held, gate.path(), 1);
    REQUIRE(gate.wait_started(0));
    auto behind = e0.apply_async(par_square, 5.0);
    CHECK(e0.abort(behind) == 1);
    gate.open();
    CHECK_THROWS_AS(behind.get(kBound), mpiply::TaskAborted);
    CHECK(running.get(kBound) == 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a single apply's data() is its map, and published integers read as any integer type",
          "[parity][data]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    int i = 41;
    auto ar = c.load_balanced_view().apply_async(par_publish_int, i);
    REQUIRE(ar.get(kBound) == i);
    mpiply::DataMap d = ar.data();
    CHECK(d.at("i").get<int>() == 41);
    CHECK(d.at("i").get<std::int64_t>() == 41);
    CHECK(std::get<std::int64_t>(d.at("i")) == 41);
    CHECK(d.at("i").get<double>() == 41.0);
    CHECK(d.at("n").get<std::size_t>() == 3u);
    CHECK(d.at("half").get<double>() == 0.5);
    CHECK_THROWS_AS(d.at("i").get<std::string>(), mpiply::UsageError);
    CHECK_THROWS_AS(mpiply::DataValue(std::int64_t(1) << 40).get<std::int16_t>(),
                    mpiply::UsageError);
    CHECK_THROWS_AS(mpiply::DataValue(~std::uint64_t(0)), mpiply::UsageError);
    // Several tasks: one map each.
    auto all = c[mpiply::all].apply_async(par_publish_int, 2);
    REQUIRE(all.wait(kBound));
    CHECK(all.data().size() == c.size());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("db_query's $in takes a container known at run time", "[parity][query]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto m = c.load_balanced_view().map_async(par_square, std::vector<double>{1, 2, 3, 4, 5});
    REQUIRE(m.wait(kBound));
    std::vector<MsgId> ids = m.msg_ids();
    std::vector<MsgId> some(ids.begin(), ids.begin() + 3);
    CHECK(c.db_query(mpiply::Query().where("msg_id", "$in", some)).size() == 3);
    CHECK(c.db_query(mpiply::field("msg_id").in(some)).size() == 3);
    CHECK(c.db_query(mpiply::field("msg_id").nin(some) &&
                     mpiply::field("function") == "par_square")
              .size() == ids.size() - 3);
    std::vector<int> engines = c.ids();
    CHECK(c.db_query(mpiply::Query().where("engine_id", "$in", engines)).size() == ids.size());
    std::vector<std::string> names{"par_square", "par_nap"};
    CHECK(c.db_query(mpiply::Query().where("function", "$in", names)).size() == ids.size());
  });
  REQUIRE(rc == 0);
}
