// db_query: Mongo-style operators on every record field, checked as they are written. The
// operator table runs over hand-made records (what a task database on disk would hold too), then
// over a live task table. Two cases catch ipyparallel's in-memory backend bugs: $gt/$lt compared
// the wrong way round, and a query with two equality keys returning nothing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

using mpiply::field;
using mpiply::Query;
using mpiply::TaskMetadata;
using mpiply::TaskStatus;
using Catch::Matchers::Contains;

double twice(double x) { return 2 * x; }
int fails(int x) {
  if (x < 0) throw std::runtime_error("negative");
  return x;
}

const mpiply::TimePoint t0 = mpiply::TimePoint(std::chrono::seconds(1'000'000));

// Records 0..4: engine = id % 2, status ok except 3 (error) and 4 (queued: no engine, no times),
// function "f" for even ids, "g" for odd; completed = t0 + id seconds.
std::vector<TaskMetadata> table() {
  std::vector<TaskMetadata> v;
  for (int i = 0; i < 5; ++i) {
    TaskMetadata m;
    m.msg_id = static_cast<mpiply::MsgId>(i);
    m.function = i % 2 ? "g" : "f";
    m.items = 1;
    m.submitted = t0;
    if (i < 4) {
      m.engine_id = i % 2;
      m.status = i == 3 ? TaskStatus::error : TaskStatus::ok;
      m.started = t0 + std::chrono::seconds(i);
      m.completed = t0 + std::chrono::seconds(i);
      m.hostname = "node";
      m.pid = 100 + i % 2;
      m.rank = i % 2 + 1;
      if (i == 3) m.error = "std::runtime_error: boom";
    }
    v.push_back(m);
  }
  return v;
}

std::vector<int> ids_matching(const Query& q) {
  std::vector<int> out;
  for (const auto& m : table())
    if (mpiply::matches(q, m)) out.push_back(static_cast<int>(m.msg_id));
  return out;
}

using V = std::vector<int>;

}  // namespace

MPIPLY_REGISTER(twice);
MPIPLY_REGISTER(fails);

TEST_CASE("db_query operator table over task records", "[db_query]") {
  // $lt/$gt put the record's value on the left: completed > t0+1 s is ids 2 and 3 (ipyparallel's
  // in-memory backend gives the other side).
  CHECK(ids_matching(field("completed") > t0 + std::chrono::seconds(1)) == V{2, 3});
  CHECK(ids_matching(field("completed") < t0 + std::chrono::seconds(1)) == V{0});
  CHECK(ids_matching(field("completed") >= t0 + std::chrono::seconds(1)) == V{1, 2, 3});
  CHECK(ids_matching(field("completed") <= t0 + std::chrono::seconds(1)) == V{0, 1});
  CHECK(ids_matching(field("msg_id") < 2) == V{0, 1});
  CHECK(ids_matching(field("msg_id") > 2) == V{3, 4});
  CHECK(ids_matching(field("engine_id") == 1) == V{1, 3});
  // $ne: an absent value (no engine yet) is not equal to 1.
  CHECK(ids_matching(field("engine_id") != 1) == V{0, 2, 4});
  CHECK(ids_matching(field("status").in({"error", "queued"})) == V{3, 4});
  CHECK(ids_matching(field("status").nin({"ok"})) == V{3, 4});
  CHECK(ids_matching(field("engine_id").in({0})) == V{0, 2});
  CHECK(ids_matching(field("engine_id").nin({0})) == V{1, 3, 4});
  CHECK(ids_matching(field("completed").exists()) == V{0, 1, 2, 3});
  CHECK(ids_matching(field("completed").exists(false)) == V{4});
  CHECK(ids_matching(field("error").exists()) == V{3});
  CHECK(ids_matching(field("hostname") == "node") == V{0, 1, 2, 3});
  CHECK(ids_matching(field("pid") >= 101) == V{1, 3});
  CHECK(ids_matching(field("rank") == 2) == V{1, 3});
  CHECK(ids_matching(field("items") == 1) == V{0, 1, 2, 3, 4});
  CHECK(ids_matching(field("status") == TaskStatus::ok) == V{0, 1, 2});
  // Absent values compare with nothing.
  CHECK(ids_matching(field("started") < t0 + std::chrono::hours(1)) == V{0, 1, 2, 3});
  // Two equality keys: both must hold (ipyparallel's backend returns nothing here).
  CHECK(ids_matching(field("status") == "ok" && field("function") == "f") == V{0, 2});
  CHECK(ids_matching(field("engine_id") == 1 && field("status") == "error") == V{3});
  // Mongo's spelling, the same conditions.
  CHECK(ids_matching(Query().where("completed", "$gt", t0 + std::chrono::seconds(1))) == V{2, 3});
  CHECK(ids_matching(Query().where("status", "$eq", "ok").where("function", "$eq", "f")) ==
        V{0, 2});
  CHECK(ids_matching(Query().where("engine_id", "$in", {0, 1}).where("msg_id", "$lte", 1)) ==
        V{0, 1});
  CHECK(ids_matching(Query().where("error", "$exists", 0)) == V{0, 1, 2, 4});
  CHECK(ids_matching(Query()) == V{0, 1, 2, 3, 4});
}

TEST_CASE("db_query checks fields, operators and operand types", "[db_query]") {
  try {
    field("engine");
    FAIL("unknown field accepted");
  } catch (const mpiply::UsageError& e) {
    CHECK_THAT(e.what(), Contains("engine_id"));
    CHECK_THAT(e.what(), Contains("completed"));
  }
  try {
    Query().where("status", "$like", "ok");
    FAIL("unknown operator accepted");
  } catch (const mpiply::UsageError& e) {
    CHECK_THAT(e.what(), Contains("$nin"));
    CHECK_THAT(e.what(), Contains("$exists"));
  }
  CHECK_THROWS_AS(field("engine_id") == "zero", mpiply::UsageError);
  CHECK_THROWS_AS(field("completed") > 5, mpiply::UsageError);
  CHECK_THROWS_AS(field("status") == "done", mpiply::UsageError);
  CHECK_THROWS_AS(Query().where("msg_id", "$lt", {1, 2}), mpiply::UsageError);
  CHECK_THROWS_AS(mpiply::check_query_keys({"msg_id", "colour"}), mpiply::UsageError);
}

TEST_CASE("rc.db_query over the live task table", "[db_query]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto t_before = mpiply::WallClock::now();
    auto a = lv.map_async(twice, std::vector<double>{1, 2, 3});
    auto b = lv.map_async(fails, std::vector<int>{1, -1});
    a.wait();
    b.wait();
    auto ok_twice = c.db_query(field("status") == "ok" && field("function") == "twice");
    CHECK(ok_twice.size() == 3);
    auto failed = c.db_query(field("status") == "error", {"error", "engine_id"});
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].msg_id == b.msg_ids()[1]);
    REQUIRE(failed[0].error);
    CHECK_THAT(*failed[0].error, Contains("negative"));
    CHECK_FALSE(failed[0].function);  // not asked for: absent, not ""
    CHECK_FALSE(failed[0].status);    // absent, not "queued"
    CHECK_FALSE(failed[0].items);     // absent, not 0
    CHECK_FALSE(failed[0].selected("status"));
    CHECK(failed[0].selected("error"));
    REQUIRE(failed[0].engine_id);
    CHECK(*failed[0].engine_id >= 0);
    // No keys: every field is there.
    auto whole = c.db_query(field("status") == "error", {});
    REQUIRE(whole.size() == 1);
    CHECK(whole[0].status == mpiply::TaskStatus::error);
    CHECK(whole[0].items == std::size_t(1));
    CHECK(whole[0].function == std::string("fails"));
    CHECK(c.db_query(field("submitted") > t_before).size() == 5);
    CHECK(c.db_query(field("submitted") < t_before).empty());
    CHECK(c.db_query(field("msg_id").in({a.msg_ids()[0], b.msg_ids()[0]})).size() == 2);
    auto engines = c.ids();
    CHECK(c.db_query(field("engine_id").in(
                         std::vector<mpiply::QueryOperand>(engines.begin(), engines.end())))
              .size() == 5);
    CHECK(c.db_query(field("received").exists(false)).empty());
    CHECK_THROWS_AS(c.db_query(Query(), {"nope"}), mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}
