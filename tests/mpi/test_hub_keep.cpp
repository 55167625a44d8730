// The hub's cap (RunOptions::hub_keep / MPIPLY_HUB_KEEP, docs/hub.md "Memory"): the oldest
// finished tasks whose AsyncResult was dropped are culled once more than the cap are kept; a
// task still held or still running never is; every value still reaches its AsyncResult; a culled
// msg id says so (and how to keep it), and with the task database on it stays readable from the
// file. Also: purged tasks give their records back, and a msg id of a freed block still says
// "purged".
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

double square(double x) { return x * x; }
int held_until(std::string gate, int x) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return x;
}
int plus_one(int x) { return x + 1; }

constexpr std::uint64_t kKeep = 8;

mpiply::RunOptions keep(std::uint64_t n) {
  mpiply::RunOptions o;
  o.hub_keep = n;
  return o;
}

template <class F>
int run_keep(const mpiply::RunOptions& o, F&& body) {
  return mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) {
    body(c);
    return 0;
  });
}

// The message of the UsageError that f raises, or "" if it raises none.
template <class F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const mpiply::UsageError& e) {
    return e.what();
  }
  return {};
}

struct TempDb {
  std::string path;
  explicit TempDb(const char* tag)
      : path("/tmp/mpiply-test-keep-" + std::to_string(getpid()) + "-" + tag + ".db") {
    remove_files();
  }
  ~TempDb() { remove_files(); }
  void remove_files() const {
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
  }
};

}  // namespace

MPIPLY_REGISTER(square);
MPIPLY_REGISTER(held_until);
MPIPLY_REGISTER(plus_one);

using Catch::Matchers::Contains;

TEST_CASE("the cap culls the oldest dropped tasks first; held and running ones stay",
          "[hub][keep]") {
  int rc = run_keep(keep(kKeep), [](mpiply::Client& c) {
    // A task still running when the others pass the cap, on the last engine, which the others
    // then avoid (with two engines or more: one rank runs each task as it is submitted, and one
    // engine would hold the others behind it). Its handle is dropped at once.
    std::vector<int> others = c.ids();
    const bool with_running = others.size() >= 2;
    if (with_running) others.pop_back();
    auto lv = c.load_balanced_view(others);
    auto held = lv.apply_async(square, 1.5);  // held to the end: never culled
    REQUIRE(held.get() == 2.25);
    hub_test::Gate gate;
    mpiply::MsgId running = 0;
    if (with_running)
      running = c[c.ids().back()].apply_async(held_until, gate.path(), 7).msg_ids()[0];
    std::vector<mpiply::MsgId> ids;
    for (int i = 0; i < 40; ++i) {
      auto ar = lv.apply_async(square, double(i));
      CHECK(ar.get() == double(i) * i);  // every value reaches its AsyncResult
      ids.push_back(ar.msg_ids()[0]);
    }
    CHECK(lv.apply(square, 2.0) == 4.0);  // one more pass after the last handle was dropped
    std::vector<mpiply::MsgId> hist = c.hub_history();
    // What is kept: the held task, the running one, and the newest of the rest, at most the cap
    // of finished ones (plus the one just finished, culled at the next pass).
    CHECK(std::find(hist.begin(), hist.end(), held.msg_ids()[0]) != hist.end());
    if (running != 0) {
      CHECK(std::find(hist.begin(), hist.end(), running) != hist.end());
      CHECK(c.metadata(running).status == mpiply::TaskStatus::sent);
    }
    std::size_t finished = hist.size() - (running != 0 ? 1 : 0);
    CHECK(finished >= kKeep - 1);
    CHECK(finished <= kKeep + 1);
    // Oldest first: the dropped tasks still kept are the newest ones.
    std::vector<mpiply::MsgId> kept_dropped;
    for (mpiply::MsgId id : hist)
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) kept_dropped.push_back(id);
    REQUIRE_FALSE(kept_dropped.empty());
    CHECK(std::equal(kept_dropped.rbegin(), kept_dropped.rend(), ids.rbegin()));
    // A culled msg id says it was culled, by what, and how to keep one.
    std::string why = usage_error([&] { c.get_result<double>(ids[0]); });
    CHECK_THAT(why, Contains("culled from the hub by MPIPLY_HUB_KEEP=8"));
    CHECK_THAT(why, Contains("hold its AsyncResult"));
    CHECK_THAT(why, Contains("MPIPLY_DB"));
    CHECK_THAT(usage_error([&] { c.metadata(ids[1]); }), Contains("culled"));
    CHECK_THAT(usage_error([&] { lv.with_flags({.after = mpiply::Dependency(ids[2])})
                                     .apply_async(square, 1.0); }),
               Contains("culled (MPIPLY_HUB_KEEP)"));
    CHECK(c.db_query(mpiply::field("msg_id") == ids[0]).empty());
    // The held one is whole: values and metadata.
    CHECK(held.metadata().at(0).status == mpiply::TaskStatus::ok);
    CHECK(c.get_result<double>(held.msg_ids()[0]).get() == std::vector<double>{2.25});
    // A dependency on a held result still works.
    CHECK(lv.with_flags({.after = mpiply::Dependency(held)}).apply(square, 3.0) == 9.0);
    if (running != 0) {
      // Once it finished it is the oldest task no handle holds: the next pass culls it.
      gate.open();
      REQUIRE(c.wait());
      CHECK(lv.apply(square, 2.0) == 4.0);
      CHECK_THAT(usage_error([&] { c.metadata(running); }), Contains("culled"));
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("under the cap a stream of maps delivers every value and rank 0 keeps few records",
          "[hub][keep]") {
  int rc = run_keep(keep(kKeep), [](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::size_t wrong = 0;
    std::vector<int> xs = mpiply_test::iota_vec(500);
    for (int round = 0; round < 20; ++round) {
      auto amr = lv.map_async(plus_one, xs, {.chunksize = 1});
      std::vector<int> got = amr.get();  // held while it runs: none of its tasks is culled
      REQUIRE(got.size() == xs.size());
      for (std::size_t i = 0; i < xs.size(); ++i) wrong += got[i] != xs[i] + 1;
      CHECK(amr.metadata().size() == xs.size());
    }
    CHECK(wrong == 0);
    // While a held map kept the hub above the cap, the next pass waits for 64 more tasks to
    // finish (docs/hub.md, "Memory"): after them, the last map's handle long dropped, at most
    // the cap (and the task just finished) are kept of 10,070 tasks.
    for (int i = 0; i < 70; ++i) CHECK(lv.apply(plus_one, i) == i + 1);
    CHECK(c.hub_history().size() <= kKeep + 1);
    CHECK(c.db_query(mpiply::Query()).size() <= kKeep + 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("with the task database on, culled tasks are read back from the file",
          "[hub][keep][db]") {
  TempDb db("culled");
  mpiply::RunOptions o = keep(kKeep);
  o.db = db.path;
  int rc = run_keep(o, [](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<mpiply::MsgId> ids;
    for (int i = 0; i < 30; ++i) {
      auto ar = lv.apply_async(square, double(i) + 0.5);
      ar.get();
      ids.push_back(ar.msg_ids()[0]);
    }
    CHECK(lv.apply(square, 2.0) == 4.0);
    // Culled from memory ...
    std::string why = usage_error([&] { c.get_result<double>(ids[0]); });
    CHECK_THAT(why, Contains("culled"));
    CHECK_THAT(why, Contains("mpiply::RecordId{"));
    // ... but not from the file: the record reads back with its value and metadata.
    mpiply::DbResult r = c.get_result(mpiply::RecordId{c.db_run(), ids[0]});
    CHECK(r.get<double>() == std::vector<double>{0.25});
    CHECK(r.metadata().status == mpiply::TaskStatus::ok);
    auto q = c.db_query(mpiply::field("msg_id") == ids[0]);
    REQUIRE(q.size() == 1);
    CHECK(q[0].status == mpiply::TaskStatus::ok);
    CHECK(q[0].function == "square");
    // Every task of this run, culled or not, once: db_query and hub_history(all_runs).
    auto all = c.db_query(mpiply::field("run") == c.db_run());
    CHECK(all.size() == ids.size() + 1);
    auto every = c.hub_history(mpiply::all_runs);
    CHECK(every.size() == ids.size() + 1);
    CHECK(std::is_sorted(every.begin(), every.end(), [](auto& a, auto& b) {
      return a.msg_id < b.msg_id;
    }));
    // A purged task stays purged: gone from db_query, though its row is in the file.
    mpiply::MsgId last = c.hub_history().back();
    c.purge_results(last);
    CHECK(c.db_query(mpiply::field("msg_id") == last).empty());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("purged tasks give their records back; their msg ids still say purged",
          "[hub][keep][purge]") {
  // No cap: every task is kept until purged. 140,000 tasks fill more than one block of records
  // (131,072), which is freed by the purge.
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<int> xs = mpiply_test::iota_vec(140'000);
    std::vector<mpiply::MsgId> ids;
    {
      auto amr = lv.map_async(plus_one, xs, {.chunksize = 1});
      std::vector<int> got = amr.get();
      CHECK(got.back() == 140'000);
      ids = amr.msg_ids();
    }
    c.purge_everything();
    CHECK(c.hub_history().empty());
    for (mpiply::MsgId id : {ids.front(), ids[70'000], ids.back()}) {
      std::string why = usage_error([&] { c.metadata(id); });
      CHECK_THAT(why, Contains("was purged from the hub"));
    }
    CHECK_THAT(usage_error([&] { lv.with_flags({.after = mpiply::Dependency(ids[5])})
                                     .apply_async(plus_one, 1); }),
               Contains("purged from the hub"));
    // The job goes on, and new tasks are kept as before.
    auto again = lv.map_async(plus_one, std::vector<int>{1, 2, 3});
    CHECK(again.get() == std::vector<int>{2, 3, 4});
    CHECK(c.hub_history() == again.msg_ids());
    CHECK(c.get_result<int>(again.msg_ids()).get() == std::vector<int>{2, 3, 4});
  });
  REQUIRE(rc == 0);
}

TEST_CASE("hub_keep: a bad RunOptions value stops every rank before client_main",
          "[hub][keep][settings]") {
  bool ran = false;
  int rc = mpiply::run(1, mpiply_test::test_argv(), keep(10'000'000'000'000),
                       [&](mpiply::Client&) { ran = true; });
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}
