// The hub over earlier runs (docs/database.md, "Reading earlier runs"): a first mpiply::run
// records successes, failures and a 1 MiB result in a task database; a second run with the same
// file finds them through db_query (with a `run` field, no duplicates, fields the file lacks
// absent), hub_history(mpiply::all_runs) and get_result(RecordId), whose values come from the
// file with the type checked. A run without the database refuses the earlier-run calls.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

long square_or_raise(long x) {
  if (x == 13) throw std::runtime_error("thirteen is unlucky");
  return x * x;
}
std::vector<char> megabyte(int seed) { return mpiply_test::patterned_megabyte(seed); }
int plus_one(int x) { return x + 1; }
void nothing(int) {}

}  // namespace

MPIPLY_REGISTER(square_or_raise);
MPIPLY_REGISTER(megabyte);
MPIPLY_REGISTER(plus_one);
MPIPLY_REGISTER(nothing);

namespace {

using Catch::Matchers::Contains;
using mpiply::field;
using mpiply::RecordId;

struct TempDb {
  std::string path;
  explicit TempDb(const char* tag)
      : path("/tmp/mpiply-test-dbhist-" + std::to_string(getpid()) + "-" + tag + ".db") {
    remove_files();
  }
  ~TempDb() { remove_files(); }
  void remove_files() const {
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
  }
};

int run_with(std::optional<std::string> path, const std::function<void(mpiply::Client&)>& body) {
  mpiply::RunOptions o;
  o.db = path;
  return mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) {
    body(c);
    return 0;
  });
}

}  // namespace

TEST_CASE("a later run reads an earlier run's tasks from the task database", "[db][hub]") {
  TempDb db("read");
  // Filled by the first run (on rank 0, where client_main runs).
  std::int64_t run1 = 0;
  std::vector<mpiply::MsgId> map_ids;
  mpiply::MsgId mb_id = 0, none_id = 0, failed_id = 0;
  int mb_engine = -2;
  mpiply::TimePoint between;

  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
            run1 = rc.db_run();
            CHECK(run1 == 1);
            auto v = rc.load_balanced_view();
            std::vector<long> xs;
            for (long i = 0; i < 20; ++i) xs.push_back(i);
            auto amr = v.map_async(square_or_raise, xs, {.chunksize = 1});
            auto mb = v.apply_async(megabyte, 7);
            auto no = v.apply_async(nothing, 1);
            amr.wait();
            mb.wait();
            no.wait();
            map_ids = amr.msg_ids();
            failed_id = map_ids[13];
            mb_id = mb.msg_ids()[0];
            none_id = no.msg_ids()[0];
            mb_engine = mb.metadata()[0].engine_id;
            CHECK(amr.metadata()[0].run == run1);
          }) == 0);
  between = mpiply::WallClock::now();

  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
    std::int64_t run2 = rc.db_run();
    REQUIRE(run2 == run1 + 1);
    auto v = rc.load_balanced_view();
    CHECK(v.apply_async(plus_one, 41).get() == 42);
    // Items 0..4 succeeded in run 1: reused now (never sent), recorded as reused.
    auto again = v.map_async(square_or_raise, std::vector<long>{0, 1, 2, 3, 4}, {.chunksize = 1});
    CHECK(again.get() == std::vector<long>{0, 1, 4, 9, 16});
    mpiply::MsgId reused_id = again.msg_ids()[3];
    CHECK(again.metadata()[3].reused);

    // Blocks, not SECTIONs: client_main runs on rank 0 only, and every rank must run a test once.
    {  // db_runs
      auto runs = rc.db_runs();
      REQUIRE(runs.size() == 2);
      CHECK(runs[0].id == run1);
      CHECK(runs[0].finished.has_value());
      CHECK_FALSE(runs[0].current);
      CHECK(runs[0].tasks == 22);
      CHECK(runs[0].failed == 1);
      CHECK(runs[1].current);
      CHECK_FALSE(runs[1].finished.has_value());
    }

    {  // db_query returns both runs, without duplicates, told apart by run
      auto all = rc.db_query(mpiply::Query());
      CHECK(all.size() == 22 + 6);
      std::set<std::pair<std::int64_t, mpiply::MsgId>> seen;
      for (const auto& m : all) CHECK(seen.insert({m.run, m.msg_id}).second);
      auto first = rc.db_query(field("run") == run1);
      CHECK(first.size() == 22);
      for (const auto& m : first) CHECK(m.run == run1);
      // Sorted by msg id within the run.
      CHECK(std::is_sorted(first.begin(), first.end(),
                           [](const auto& a, const auto& b) { return a.msg_id < b.msg_id; }));
      CHECK(rc.db_query(field("run") == run2).size() == 6);
      CHECK(rc.db_query(field("run") < run2 && field("function") == "plus_one").empty());
    }

    {  // every stored field answers a query on rows of the earlier run
      auto failed = rc.db_query(field("status") == "error", {"error", "function"});
      REQUIRE(failed.size() == 1);
      CHECK(failed[0].run == run1);
      CHECK(failed[0].msg_id == failed_id);
      CHECK(failed[0].function == std::string("square_or_raise"));
      REQUIRE(failed[0].error);
      CHECK_THAT(*failed[0].error, Contains("thirteen is unlucky"));
      CHECK_FALSE(failed[0].hostname);  // not asked for: absent

      auto mb = rc.db_query(field("function") == "megabyte" && field("run") == run1);
      REQUIRE(mb.size() == 1);
      CHECK(mb[0].msg_id == mb_id);
      CHECK(mb[0].engine_id == mb_engine);
      CHECK(mb[0].status == mpiply::TaskStatus::ok);
      CHECK(mb[0].items == 1);
      CHECK(mb[0].completed.has_value());
      CHECK_FALSE(mb[0].hostname.empty());
      CHECK(mb[0].pid > 0);
      CHECK(mb[0].attempts == -1);
      CHECK(rc.db_query(field("engine_id") == mb_engine && field("msg_id") == mb_id &&
                        field("run") == run1)
                .size() == 1);
      CHECK(rc.db_query(field("msg_id").in({mb_id, none_id}) && field("run") == run1).size() == 2);
      CHECK(rc.db_query(field("status").in({"error", "aborted"})).size() == 1);
      CHECK(rc.db_query(field("status") != "ok" && field("run") == run1).size() == 1);
      CHECK(rc.db_query(field("error").exists() && field("run") == run1).size() == 1);
      CHECK(rc.db_query(field("items") > 1).empty());
      CHECK(rc.db_query(field("submitted") < between && field("received") < between).size() == 22);
      CHECK(rc.db_query(field("rank").exists() && field("run") == run1).size() == 22);
      // The file does not keep attempts: absent in its rows, present in this run's.
      auto no_attempts = rc.db_query(field("attempts").exists(false));
      CHECK(no_attempts.size() == 22);
      for (const auto& m : no_attempts) CHECK(m.run == run1);
      CHECK(rc.db_query(field("attempts") >= 0).size() == 6);
      // Times: only this run completed anything after `between` (its reused tasks have none).
      auto late = rc.db_query(field("completed") > between);
      REQUIRE(late.size() == 1);
      CHECK(late[0].run == run2);
      CHECK(late[0].function == "plus_one");
    }

    {  // hub_history(all_runs) lists every run's tasks
      auto h = rc.hub_history(mpiply::all_runs);
      REQUIRE(h.size() == 22 + 6);
      CHECK(std::is_sorted(h.begin(), h.end()));
      for (std::size_t i = 0; i < 22; ++i) CHECK(h[i].run == run1);
      CHECK(h[22] == RecordId{run2, rc.hub_history()[0]});
      CHECK(rc.hub_history().size() == 6);  // unchanged: this run only
    }

    {  // get_result(RecordId) reads values from the file, type checked
      mpiply::DbResult mb = rc.get_result(RecordId{run1, mb_id});
      CHECK(mb.type_name() == mpiply::detail::type_name<std::vector<char>>());
      CHECK(mb.result_bytes() > (1u << 20));
      CHECK(mb.metadata().run == run1);
      CHECK(mb.metadata().engine_id == mb_engine);
      auto values = mb.get<std::vector<char>>();
      REQUIRE(values.size() == 1);
      CHECK(values[0] == megabyte(7));
      CHECK_THROWS_AS(mb.get<int>(), mpiply::UsageError);
      CHECK_THROWS_WITH(mb.get<int>(), Contains("holds values of type") && Contains("int"));

      auto sq = rc.get_result(RecordId::parse(fmt::format("{}:{}", run1, map_ids[6])));
      CHECK(sq.value<long>() == 36);
      CHECK(rc.get_result(RecordId{run1, none_id}).get<mpiply::None>().size() == 1);

      auto bad = rc.get_result(RecordId{run1, failed_id});
      CHECK_FALSE(bad.successful());
      CHECK_THROWS_AS(bad.get<long>(), mpiply::CompositeError);
      CHECK_THROWS_AS(bad.value<long>(), mpiply::RemoteError);
      CHECK_THROWS_WITH(bad.value<long>(), Contains("thirteen is unlucky"));

      // A reused task of this run: its values are the earlier run's.
      auto reused = rc.get_result(RecordId{run2, reused_id});
      CHECK(reused.metadata().reused);
      CHECK(reused.value<long>() == 9);
    }

    {  // unknown record ids are UsageErrors naming them
      CHECK_THROWS_AS(rc.get_result(RecordId{99, 0}), mpiply::UsageError);
      CHECK_THROWS_WITH(rc.get_result(RecordId{99, 0}), Contains("99:0") && Contains("no run 99"));
      RecordId missing{run1, 100000};
      CHECK_THROWS_WITH(rc.get_result(missing),
                        Contains(mpiply::to_string(missing)) && Contains("no finished task"));
      CHECK_THROWS_WITH(RecordId::parse("7-3"), Contains("'7-3'") && Contains("RUN:MSG"));
      CHECK_THROWS_AS(RecordId::parse(":3"), mpiply::UsageError);
      CHECK_THROWS_AS(RecordId::parse("1:x"), mpiply::UsageError);
      CHECK(RecordId::parse("2:17") == RecordId{2, 17});
      CHECK(mpiply::to_string(RecordId{2, 17}) == "2:17");
    }
  }) == 0);
}

TEST_CASE("without the task database earlier runs are refused and db_query is this run's",
          "[db][hub]") {
  REQUIRE(run_with(std::nullopt, [&](mpiply::Client& rc) {
            CHECK(rc.db_run() == 0);
            auto v = rc.load_balanced_view();
            auto ar = v.apply_async(plus_one, 1);
            CHECK(ar.get() == 2);
            // Still Jobs: a braced list of msg ids is this run's.
            CHECK(rc.get_result<int>({ar.msg_ids()[0]}).get() == std::vector<int>{2});
            auto all = rc.db_query(mpiply::Query());
            REQUIRE(all.size() == 1);
            CHECK(all[0].run == 0);
            CHECK(rc.db_query(field("run") == 0).size() == 1);
            CHECK_THROWS_WITH(rc.hub_history(mpiply::all_runs),
                              Contains("task database is off") && Contains("MPIPLY_DB"));
            CHECK_THROWS_AS(rc.get_result(RecordId{1, 0}), mpiply::UsageError);
            CHECK_THROWS_AS(rc.db_runs(), mpiply::UsageError);
          }) == 0);
}

TEST_CASE("a stored record decodes as the live result would, failures included", "[db][hub]") {
  auto record = [](mpiply::TaskStatus status, std::string bytes, std::string error,
                   std::string type) {
    auto d = std::make_shared<mpiply::detail::DbRecordData>();
    d->id = RecordId{3, 9};
    d->meta.run = 3;
    d->meta.msg_id = 9;
    d->meta.status = status;
    d->meta.function = "square_or_raise";
    d->meta.items = 2;
    d->meta.error = std::move(error);
    d->type = std::move(type);
    d->bytes = std::move(bytes);
    return mpiply::DbResult(d);
  };
  const std::string long_type = mpiply::detail::type_name<long>();
  // Failed on rank 0 (aborted, never sent): only "ename: evalue" was kept; every item raises it
  // as its specific type.
  auto aborted = record(mpiply::TaskStatus::aborted, "",
                        "mpiply::TaskAborted: the job was interrupted", long_type);
  CHECK_THROWS_AS(aborted.value<long>(1), mpiply::TaskAborted);
  CHECK_THROWS_WITH(aborted.value<long>(0), Contains("the job was interrupted"));
  try {
    aborted.get<long>();
    FAIL("no error");
  } catch (const mpiply::CompositeError& e) {
    CHECK(e.errors().size() == 2);
  }
  // Damaged bytes fail the items as a malformed live result would, never the caller.
  auto damaged = record(mpiply::TaskStatus::ok, std::string("\x00\xff\xff", 3), "", long_type);
  CHECK_THROWS_AS(damaged.value<long>(), mpiply::MessageDecodeError);
  // A push, pull or clear: no value type recorded.
  auto pulled = record(mpiply::TaskStatus::ok, "", "", "");
  CHECK_THROWS_WITH(pulled.get<long>(), Contains("3:9") && Contains("does not record the type"));
}

TEST_CASE("push, pull and scatter tasks are named in metadata, the timeline and the database",
          "[db][hub]") {
  TempDb db("names");
  std::int64_t run1 = 0;
  std::size_t pushes = 0, scatters = 0, pulls = 0;
  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
            run1 = rc.db_run();
            auto dv = rc.direct_view();
            auto push = dv.push_async({{"base", 7}});
            // A quarter million ints: a megabyte through the scatter.
            std::vector<int> xs(1 << 18);
            for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<int>(i);
            auto scatter = dv.scatter_async("xs", xs);
            push.wait();
            scatter.wait();
            auto pull = dv.pull_async<int>("base");
            CHECK(pull.get() == std::vector<int>(rc.ids().size(), 7));
            auto names = [](const std::vector<mpiply::TaskMetadata>& md) {
              std::set<std::string> s;
              for (const auto& m : md) s.insert(m.function);
              return s;
            };
            CHECK(names(push.metadata()) == std::set<std::string>{"push"});
            CHECK(names(scatter.metadata()) == std::set<std::string>{"scatter"});
            CHECK(names(pull.metadata()) == std::set<std::string>{"pull"});
            pushes = push.metadata().size();
            scatters = scatter.metadata().size();
            pulls = pull.metadata().size();
            // The timeline names each task by its function.
            auto md = push.metadata();
            for (const auto& part : {scatter.metadata(), pull.metadata()})
              md.insert(md.end(), part.begin(), part.end());
            std::string tl = mpiply::timeline_json(md);
            for (const char* n : {"push", "scatter", "pull"})
              CHECK(tl.find(fmt::format("\"function\": \"{}\"", n)) != std::string::npos);
            CHECK(tl.find("\"function\": \"\"") == std::string::npos);
          }) == 0);
  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
            auto of = [&](const char* fn) {
              return rc.db_query(field("run") == run1 && field("function") == fn).size();
            };
            CHECK(of("push") == pushes);
            CHECK(of("scatter") == scatters);
            CHECK(of("pull") == pulls);
            CHECK(of("") == 0);
          }) == 0);
}

TEST_CASE("a fully reused map: progress and summary count reused items apart, no rate, no "
          "speedup",
          "[db][hub]") {
  TempDb db("reused");
  std::vector<long> xs;
  for (long i = 0; i < 12; ++i) xs.push_back(i);
  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
            CHECK(rc.load_balanced_view().map_async(square_or_raise, xs, {.chunksize = 1})
                      .get()
                      .size() == xs.size());
          }) == 0);
  REQUIRE(run_with(db.path, [&](mpiply::Client& rc) {
            auto ar = rc.load_balanced_view().map_async(square_or_raise, xs, {.chunksize = 1});
            std::FILE* f = std::tmpfile();
            REQUIRE(f);
            CHECK(ar.wait_interactive(std::chrono::milliseconds(50), std::nullopt, f));
            std::rewind(f);
            std::string text;
            for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
            std::fclose(f);
            // Every item is done, none ran here: the rate counts only items that ran.
            CHECK(text.rfind("12/12 items (100.0%), 12 reused  0.0 items/s", 0) == 0);
            auto s = ar.summary();
            CHECK(s.tasks == 12);
            CHECK(s.reused == 12);
            CHECK(s.finished == 0);
            CHECK(s.not_run == 0);
            CHECK(s.wall_seconds == 0);
            std::string line = s.to_string();
            CHECK(line.rfind("12 tasks (12 items): 0 finished, 12 reused from the task database, "
                             "0 failed;",
                             0) == 0);
            CHECK(line.find("speedup") == std::string::npos);
          }) == 0);
}
