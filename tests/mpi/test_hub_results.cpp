// The hub's results and housekeeping: get_result after the AsyncResult is gone (values, metadata,
// the type check), results()/metadata() maps, result_status, queue_status, purge (memory given
// back), resubmit, hub_history, rc.wait on ids, and the UsageErrors of bad input.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

double square(double x) { return x * x; }
int fails_on_odd(int x) {
  if (x % 2) throw std::runtime_error("odd " + std::to_string(x));
  return x;
}
std::vector<double> block(int n) { return std::vector<double>(static_cast<std::size_t>(n), 1.5); }
int held(std::string gate, int x) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return x;
}

}  // namespace

MPIPLY_REGISTER(square);
MPIPLY_REGISTER(fails_on_odd);
MPIPLY_REGISTER(block);
MPIPLY_REGISTER(held);

using Catch::Matchers::Contains;

TEST_CASE("get_result gives values and metadata back after the AsyncResult is gone",
          "[hub][results]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    mpiply::MsgId apply_id = 0, first_map_id = 0;
    std::vector<mpiply::MsgId> map_ids;
    {
      auto a = lv.apply_async(square, 3.0);
      auto m = lv.map_async(square, std::vector<double>{1, 2, 3, 4}, {.chunksize = 3});
      CHECK(a.get() == 9.0);
      CHECK(m.get().size() == 4);
      apply_id = a.msg_ids()[0];
      map_ids = m.msg_ids();
      first_map_id = map_ids[0];
    }  // both handles gone
    auto again = c.get_result<double>(apply_id);
    CHECK(again.get() == std::vector<double>{9.0});
    CHECK(again.metadata().at(0).status == mpiply::TaskStatus::ok);
    CHECK(again.metadata().at(0).function == "square");
    CHECK(again.msg_ids() == std::vector<mpiply::MsgId>{apply_id});
    CHECK(c.get_result<double>(map_ids).get() == std::vector<double>{1, 4, 9, 16});
    // Chosen tasks, in the order given: the map's second chunk, then its first.
    CHECK(c.get_result<double>({map_ids[1], first_map_id}).get() ==
          std::vector<double>{16, 1, 4, 9});
    // History positions: -1 is the latest task (the map's last chunk).
    CHECK(c.get_result<double>(mpiply::HistoryIndex{-1}).get() == std::vector<double>{16});
    CHECK(c.get_result<double>(mpiply::HistoryIndex{0}).get() == std::vector<double>{9});
    // The typed access checks the type.
    try {
      c.get_result<int>(apply_id).get();
      FAIL("get_result<int> of a double result must raise");
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(e.what(), Contains("double"));
      CHECK_THAT(e.what(), Contains("square"));
    }
    CHECK_THROWS_AS(c.get_result<double>(mpiply::MsgId(123456789)), mpiply::UsageError);
    CHECK_THROWS_AS(c.get_result<double>(mpiply::HistoryIndex{1000}), mpiply::UsageError);
    // The untyped handle: status and metadata only.
    auto untyped = c.get_result(map_ids);
    CHECK(untyped.ready());
    CHECK(untyped.successful());
    CHECK(untyped.size() == 4);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("get_result keeps errors, and fills as a running task finishes", "[hub][results]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<mpiply::MsgId> ids = lv.map_async(fails_on_odd, mpiply_test::iota_vec(4)).msg_ids();
    REQUIRE(c.wait(ids, std::chrono::seconds(60)));
    auto r = c.get_result<int>(ids);
    auto vals = r.values_or_empty();
    CHECK(vals[0] == 0);
    CHECK(!vals[1]);
    CHECK(vals[2] == 2);
    try {
      r.get();
      FAIL("expected CompositeError");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 2);
      CHECK_THAT(ce.errors()[0].error.evalue(), Contains("odd 1"));
    }
    CHECK(c.metadata(ids[1]).status == mpiply::TaskStatus::error);
    CHECK_THAT(c.metadata(ids[1]).error, Contains("odd 1"));

    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    mpiply::MsgId id = c[0].apply_async(held, gate.path(), 5).msg_ids()[0];
    auto later = c.get_result<int>(id);  // still running (unless inline)
    gate.open();
    CHECK(later.get(std::chrono::seconds(60)) == std::vector<int>{5});
  });
  REQUIRE(rc == 0);
}

TEST_CASE("results(), metadata(), result_status, hub_history and wait by msg id", "[hub][results]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto a = lv.apply_async(square, 2.0);
    auto m = lv.map_async(square, std::vector<double>{5, 6});
    CHECK(c.wait({a.msg_ids()[0]}, std::chrono::seconds(60)));
    CHECK(c.wait(std::vector<mpiply::AsyncMapResult<double>>{m}, std::chrono::seconds(60)));
    CHECK(c.wait(a));
    CHECK_THROWS_AS(c.wait(mpiply::MsgId(424242)), mpiply::UsageError);
    auto hist = c.hub_history();
    REQUIRE(hist.size() == 3);
    CHECK(hist == c.history());
    auto results = c.results();
    REQUIRE(results.size() == 3);
    const mpiply::StoredResult& r0 = results.at(hist[0]);
    CHECK(r0.function() == "square");
    CHECK(r0.type_name() == "double");
    CHECK(r0.status() == mpiply::TaskStatus::ok);
    CHECK(r0.value<double>() == 4.0);
    CHECK(results.at(hist[2]).get<double>() == std::vector<double>{36.0});
    CHECK_THROWS_AS(r0.value<float>(), mpiply::UsageError);
    auto meta = c.metadata();
    REQUIRE(meta.size() == 3);
    CHECK(meta.at(hist[1]).items == 1);
    CHECK(meta.at(hist[1]).received.has_value());

    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    auto h = c[0].apply_async(held, gate.path(), 1);
    auto st = c.result_status({hist[0], h.msg_ids()[0]}, false);
    if (c.inline_mode()) {
      CHECK(st.completed.size() == 2);
    } else {
      CHECK(st.pending == std::vector<mpiply::MsgId>{h.msg_ids()[0]});
      CHECK(st.completed == std::vector<mpiply::MsgId>{hist[0]});
      CHECK(st.results.at(hist[0]).value<double>() == 4.0);
      CHECK(!c.wait(h, std::chrono::milliseconds(1)));  // times out: still held
    }
    CHECK(c.result_status(hist).results.empty());  // status only
    gate.open();
    CHECK(c.wait(h, std::chrono::seconds(60)));
  });
  REQUIRE(rc == 0);
}

TEST_CASE("queue_status counts per engine: waiting on rank 0, on the engine, completed",
          "[hub][status]") {
  mpiply::RunOptions o;
  o.hwm = 2;
  o.engine_threads = 1;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [](mpiply::Client& c) {
    auto e = c[0];
    e.apply(square, 1.0);
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    auto blocker = e.apply_async(held, gate.path(), 1);
    std::vector<mpiply::AsyncResult<double>> behind;
    for (int i = 0; i < 4; ++i) behind.push_back(e.apply_async(square, double(i)));
    auto q = c.queue_status({}, true);
    REQUIRE(q.engines.size() == c.size());
    const mpiply::EngineQueue& e0 = q.engines.at(0);
    if (c.inline_mode()) {
      CHECK(e0.completed == 6);
      CHECK(e0.on_engine == 0);
    } else {
      CHECK(e0.completed == 1);
      CHECK(e0.on_engine == 2);  // hwm 2: the blocker and one behind it
      CHECK(e0.queued == 3);
      CHECK(e0.on_engine_ids.front() == blocker.msg_ids()[0]);
      CHECK(q.unassigned == 0);
      // Load-balanced work finds every engine full: it waits unassigned.
      std::vector<mpiply::AsyncResult<double>> lb;
      if (c.size() == 1) {
        lb.push_back(c.load_balanced_view().apply_async(square, 3.0));
        auto q2 = c.queue_status({0});
        CHECK(q2.unassigned == 1);
        CHECK(q2.unassigned_ids.empty());  // not verbose
      }
      gate.open();
      for (auto& a : lb) a.get();
    }
    gate.open();
    for (auto& b : behind) b.get();
    CHECK(c.queue_status({0}).engines.at(0).completed == (c.size() == 1 && !c.inline_mode() ? 7 : 6));
    CHECK_THROWS_AS(c.queue_status({99}), mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("purge gives the kept values back; purging an outstanding task is a UsageError",
          "[hub][purge]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    const int n = 16, len = 1 << 14;  // 16 results of 128 KiB: 2 MiB kept
    std::size_t empty = c.results_bytes();
    std::vector<mpiply::MsgId> ids = lv.map_async(block, std::vector<int>(n, len)).msg_ids();
    REQUIRE(c.wait(ids, std::chrono::seconds(60)));
    std::size_t full = c.results_bytes();
    CHECK(full - empty >= std::size_t(n) * len * sizeof(double));
    // Half of them: the other half stays readable.
    std::vector<mpiply::MsgId> half(ids.begin(), ids.begin() + n / 2);
    c.purge_local_results(half);
    std::size_t after_half = c.results_bytes();
    CHECK(full - after_half >= std::size_t(n / 2) * len * sizeof(double));
    CHECK_THROWS_AS(c.get_result<std::vector<double>>(half[0]), mpiply::UsageError);
    CHECK(c.get_result<std::vector<double>>(ids.back()).get().at(0).size() == std::size_t(len));
    CHECK(c.metadata(half[0]).status == mpiply::TaskStatus::ok);  // metadata stays
    CHECK(c.db_query(mpiply::field("msg_id") == half[0]).size() == 1);
    // An outstanding task cannot be purged; nothing is purged then.
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    auto h = c[0].apply_async(held, gate.path(), 1);
    if (!c.inline_mode()) {
      try {
        c.purge_results({ids.back(), h.msg_ids()[0]});
        FAIL("expected UsageError");
      } catch (const mpiply::UsageError& e) {
        CHECK_THAT(e.what(), Contains("wait for it"));
      }
      CHECK(c.get_result<std::vector<double>>(ids.back()).get().size() == 1);
      // With a task outstanding, purging everything locally is refused (ipyparallel's
      // "Can't purge outstanding tasks"); the hub's purge leaves the outstanding one alone.
      CHECK_THROWS_AS(c.purge_everything(), mpiply::UsageError);
      c.purge_hub_results(mpiply::all);
      CHECK(c.hub_history() == h.msg_ids());
    }
    gate.open();
    CHECK(h.get() == 1);
    c.purge_results(mpiply::all);
    CHECK(c.hub_history().empty());
    CHECK(c.results().empty());
    CHECK(c.results_bytes() == empty);  // what is left (an int) is kept inside its record
    CHECK_THROWS_AS(c.metadata(ids[0]), mpiply::UsageError);
    CHECK_THROWS_AS(c.resubmit(ids[0]), mpiply::UsageError);  // record and arguments are gone
    CHECK_THROWS_AS(c.purge_results(mpiply::Jobs{}), mpiply::UsageError);
    // The job goes on.
    CHECK(lv.apply(square, 3.0) == 9.0);
    CHECK(c.hub_history().size() == 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("purge by target engine", "[hub][purge]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto all = c[mpiply::all];
    auto ids = all.apply_async(square, 2.0).msg_ids();
    REQUIRE(c.wait(ids, std::chrono::seconds(60)));
    c.purge_results(mpiply::Jobs{}, {0});
    CHECK(c.hub_history().size() == ids.size() - 1);
    CHECK_THROWS_AS(c.metadata(ids[0]), mpiply::UsageError);
    CHECK_THROWS_AS(c.purge_results(mpiply::Jobs{}, {99}), mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("resubmit runs the same calls again under new msg ids", "[hub][resubmit]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<mpiply::MsgId> ids =
        lv.map_async(square, std::vector<double>{1, 2, 3}).msg_ids();
    REQUIRE(c.wait(ids, std::chrono::seconds(60)));
    auto again = c.resubmit<double>({ids[2], ids[0]});
    CHECK(again.get() == std::vector<double>{9.0, 1.0});
    auto new_ids = again.msg_ids();
    CHECK(new_ids[0] > ids.back());
    CHECK(new_ids[1] == new_ids[0] + 1);
    CHECK(c.metadata(new_ids[0]).function == "square");
    // Untyped, then read through get_result; a direct task stays on its engine.
    auto d = c[-1].apply_async(square, 4.0);
    CHECK(d.get() == 16.0);
    auto r = c.resubmit(d);
    REQUIRE(r.wait(std::chrono::seconds(60)));
    CHECK(c.get_result<double>(r).get() == std::vector<double>{16.0});
    CHECK(r.metadata().at(0).engine_id == c.ids().back());
    CHECK_THROWS_AS(c.resubmit<int>(ids[0]), mpiply::UsageError);
    // An in-flight task runs again too (as in ipyparallel), under a new msg id.
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    auto h = c[0].apply_async(held, gate.path(), 1);
    auto h2 = c.resubmit<int>(h);
    CHECK(h2.msg_ids() != h.msg_ids());
    gate.open();
    CHECK(h.get() == 1);
    CHECK(h2.get() == std::vector<int>{1});
    // Pushes are not calls.
    auto p = c[0].push_async({{"x", 1}});
    p.get();
    CHECK_THROWS_AS(c.resubmit(p), mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("resubmit of an apply made 10,000 applies earlier gives its value again",
          "[hub][resubmit]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto direct = c[-1];
    auto lv = c.load_balanced_view().with_flags({.retries = 1});
    auto d = direct.apply_async(square, 3.0);
    auto l = lv.apply_async(square, 5.0);
    CHECK(d.get() == 9.0);
    CHECK(l.get() == 25.0);
    const mpiply::MsgId d_id = d.msg_ids()[0], l_id = l.msg_ids()[0];
    for (int i = 0; i < 10'000; ++i) direct.apply_async(square, double(i)).get();
    auto again = c.resubmit<double>(d_id);
    CHECK(again.get() == std::vector<double>{9.0});
    CHECK(again.metadata().at(0).engine_id == c.ids().back());  // a direct task stays on its engine
    CHECK(c.resubmit<double>(l_id).get() == std::vector<double>{25.0});
    // Its values purged, its arguments are gone too; the other call still runs again.
    c.purge_local_results(d_id);
    CHECK_THROWS_WITH(c.resubmit(d_id), Contains("purged"));
    CHECK(c.resubmit<double>(l_id).get() == std::vector<double>{25.0});
  });
  REQUIRE(rc == 0);
}

TEST_CASE("every view has a history, wait and abort", "[hub][views]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto dv = c.direct_view();
    auto ev = c[0];
    auto a = lv.apply_async(square, 1.0);
    auto b = dv.apply_async(square, 2.0);
    auto d = ev.apply_async(square, 3.0);
    CHECK(lv.history() == a.msg_ids());
    CHECK(dv.history() == b.msg_ids());
    CHECK(ev.history() == d.msg_ids());
    auto lv2 = lv.with_flags({});
    CHECK(lv2.history() == a.msg_ids());  // copies share it
    CHECK(lv.wait(std::chrono::seconds(60)));
    CHECK(dv.wait(std::chrono::seconds(60)));
    CHECK(ev.wait(std::chrono::seconds(60)));
    CHECK(a.ready());
    CHECK(lv.abort() == 0);
    CHECK(ev.abort() == 0);
    CHECK(d.get() == 9.0);
  });
  REQUIRE(rc == 0);
}
