// db_query over the task database file (task_db_query.hpp): for many queries, the rows SQL lets
// through and the C++ match give exactly what a brute-force scan of every record gives, while
// rows that cannot match are not read; a reused record's values are found at their original;
// the MPI rank of a stored record's engine.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "taskdb/task_db.hpp"
#include "taskdb/task_db_query.hpp"

using namespace mpiply;
using namespace mpiply::detail;

namespace {

const ProgramIdentity kProg{"qprog", "00112233445566778899aabbccddeeff", 2};
const std::int64_t kNow = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              WallClock::now().time_since_epoch())
                              .count();

std::string value_bytes(std::uint64_t v) {
  std::string out(1, '\0');
  std::uint32_t len = 8;
  out.append(reinterpret_cast<const char*>(&len), 4);
  out.append(reinterpret_cast<const char*>(&v), 8);
  return out;
}

// Task i of a run: failures every 997th from 5, times around now (as a real run's are).
StoredTask task(std::uint64_t i) {
  StoredTask t;
  t.msg_id = i;
  t.function = i % 3 == 0 ? "square" : "cube";
  std::string a(8, '\0');
  std::memcpy(a.data(), &i, 8);
  t.key = resume_key(t.function, {a.data(), a.size()});
  t.status = i % 997 == 5 ? TaskStatus::error : TaskStatus::ok;
  t.submitted = kNow + std::int64_t(i) * 1000;
  t.started = t.submitted + 100;
  t.completed = t.started + 1000;
  t.received = t.completed + 100;
  t.engine = static_cast<std::int32_t>(i % 4);
  t.hostname = i % 2 ? "node-a" : "node-b";
  t.pid = 100 + std::int64_t(i % 4);
  t.items = 1;
  if (t.status == TaskStatus::ok) t.result = value_bytes(i * i);
  else t.error = "ValueError: bad input " + std::to_string(i);
  return t;
}

TimePoint at(std::int64_t ns) {
  return TimePoint(std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
}

std::set<std::pair<std::int64_t, MsgId>> ids_of(const std::vector<TaskMetadata>& v) {
  std::set<std::pair<std::int64_t, MsgId>> s;
  for (const auto& m : v) s.insert({m.run, m.msg_id});
  return s;
}

}  // namespace

TEST_CASE("a query over the file gives what a scan of every record gives", "[taskdb][query]") {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("mpiply-taskdb-query-" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::filesystem::remove(path);
  constexpr std::uint64_t kTasks = 20000;
  {
    auto db = TaskDb::open(path, kProg, {.batch_rows = 512, .ranks = 5});
    for (std::uint64_t i = 0; i < kTasks; ++i) db->append(task(i).row());
    db->close();
  }
  std::int64_t run2_id = 0;
  ResumeKey reused_key;
  {
    auto db = TaskDb::open(path, kProg, {.batch_rows = 512, .ranks = 1});
    run2_id = db->run_id();
    for (std::uint64_t i = 0; i < 100; ++i) db->append(task(i).row());
    // A reused record: no bytes of its own, the values are run 1's task 30.
    StoredTask r = task(30);
    r.msg_id = 100;
    r.reused = true;
    r.result.clear();
    r.engine = -1;
    reused_key = r.key;
    db->append(r.row());
    db->flush();
    // The writer's own connection: queries of earlier runs leave this run out.
    std::vector<TaskMetadata> earlier;
    db->query(Query(), run2_id, [&](const TaskMetadata& m) { earlier.push_back(m); });
    CHECK(earlier.size() == kTasks);
    REQUIRE(db->original_result("square", reused_key, run2_id));
    CHECK(*db->original_result("square", reused_key, run2_id) == value_bytes(900));
    db->close();
  }
  CHECK(run2_id == 2);

  auto rd = TaskDbReader::open(path);
  std::map<std::int64_t, int> ranks;
  for (const RunInfo& r : rd->runs()) ranks[r.id] = r.ranks;
  std::vector<TaskMetadata> every;
  rd->for_each(0, [&](const StoredTask& t) { every.push_back(to_metadata(t, ranks[t.run])); });
  REQUIRE(every.size() == kTasks + 101);
  std::uint64_t total_rows = 0;
  rd->query(Query(), [](const TaskMetadata&) {}, &total_rows);
  CHECK(total_rows >= kTasks / 512);

  TimePoint mid = at(kNow + 10000 * 1000);
  struct Case {
    const char* name;
    Query q;
    std::uint64_t max_rows;  // rows a good pre-filter reads at most
  };
  std::vector<Case> cases = {
      {"status error", field("status") == "error", 25},
      {"status in ok", field("status").in({"ok"}), total_rows},
      {"status ne ok", field("status") != "ok", 25},
      {"status queued", field("status") == "queued", 0},
      {"status nin ok,error", field("status").nin({"ok", "error"}), 25},  // aborted: n_failed
      {"msg 777", field("msg_id") == 777, 2},
      {"msg in", field("msg_id").in({3, 19999}), total_rows},
      {"msg lt 100", field("msg_id") < 100, 3},
      {"msg gte 19900", field("msg_id") >= 19900, 2},
      {"run 1", field("run") == 1, total_rows},
      {"run ne 1", field("run") != 1, 2},
      {"run in 2", field("run").in({2}), 2},
      {"run nin 1", field("run").nin({1}), 2},
      {"function square", field("function") == "square", total_rows},
      {"function none", field("function").in({"nope", "nada"}), 0},
      {"host a", field("hostname") == "node-a", total_rows},
      {"error exists", field("error").exists(), 25},
      {"error eq", field("error") == "ValueError: bad input 5", 25},
      {"no error", field("error").exists(false), total_rows},
      {"completed after mid", field("completed") > mid, total_rows},
      {"submitted before mid", field("submitted") <= mid, total_rows},
      {"received far past", field("received") < at(kNow - 3600'000'000'000), 0},
      {"completed far future", field("completed") >= at(kNow + 3600'000'000'000), 0},
      {"attempts absent", field("attempts").exists(false), total_rows},
      {"attempts 1", field("attempts") == 1, 0},
      {"engine 2 ok", field("engine_id") == 2 && field("status") == "ok", total_rows},
      {"engine absent", field("engine_id").exists(false), total_rows},
      {"rank 0", field("rank") == 0, total_rows},
      {"items gt 1", field("items") > 1, total_rows},
      {"msg absent", field("msg_id").exists(false), 0},
  };
  for (const Case& c : cases) {
    INFO(c.name << " (WHERE " << row_filter(c.q, 0).where << ")");
    std::vector<TaskMetadata> want, got;
    for (const auto& m : every)
      if (matches(c.q, m)) want.push_back(m);
    std::uint64_t rows = 0;
    rd->query(c.q, [&](const TaskMetadata& m) { got.push_back(m); }, &rows);
    CHECK(ids_of(got) == ids_of(want));
    CHECK(got.size() == want.size());
    CHECK(rows <= c.max_rows);
  }
  // Run 2 ran with one rank: its engines are rank 0's inline one.
  std::vector<TaskMetadata> r2;
  rd->query(field("run") == 2 && field("engine_id") == 0,
            [&](const TaskMetadata& m) { r2.push_back(m); });
  REQUIRE_FALSE(r2.empty());
  CHECK(r2[0].rank == 0);
  CHECK(r2[0].attempts == -1);
  // The reader finds a reused record's values by scanning.
  REQUIRE(rd->original_result("square", reused_key, 2));
  CHECK(*rd->original_result("square", reused_key, 2) == value_bytes(900));
  CHECK_FALSE(rd->original_result("cube", reused_key, 2));
  rd.reset();
  std::filesystem::remove(path);
}

TEST_CASE("a stored record's engine maps to the MPI rank that ran it", "[taskdb][query]") {
  TaskRow r;
  r.engine = 1;
  CHECK(row_metadata(r, 3, 4).rank == 2);
  CHECK(row_metadata(r, 3, 0).rank == 2);  // ranks unknown
  r.engine = 3;                            // ids reach ranks - 1 only with client_runs_tasks
  CHECK(row_metadata(r, 3, 4).rank == 0);
  r.engine = 0;
  CHECK(row_metadata(r, 3, 1).rank == 0);  // one rank: the inline engine
  r.engine = -1;
  CHECK(row_metadata(r, 3, 4).rank == -1);
  CHECK(row_metadata(r, 3, 4).run == 3);
}
