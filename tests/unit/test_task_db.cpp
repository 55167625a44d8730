// The task database on its own (no MPI): records round-trip, batching and flush, resume look-up,
// and reuse by key (the stored row format: test_task_db_format.cpp; the refusals and crash
// survival: test_task_db_refusals.cpp).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>
#include <sstream>

#include "taskdb/resume_index.hpp"
#include "taskdb/task_db.hpp"
#include "taskdb/task_db_schema.hpp"

#include "task_db_support.hpp"

using namespace mpiply;
using namespace mpiply::detail;
using namespace taskdb_support;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("task records round-trip, including a 1 MiB result and failures", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("jobs.db");
  std::vector<StoredTask> written;
  for (std::uint64_t i = 0; i < 300; ++i)
    written.push_back(make_task(i, i % 17 == 5 ? TaskStatus::error : TaskStatus::ok));
  written[42].result = std::string(1 << 20, '\0');
  for (std::size_t i = 0; i < written[42].result.size(); ++i)
    written[42].result[i] = static_cast<char>((i * 2654435761u) >> 13);
  written[7].reused = true;
  written[7].result.clear();
  written[8].engine = -1;  // never reached an engine
  written[8].started = written[8].completed = 0;
  written[8].status = TaskStatus::aborted;
  written[8].error = "TaskAborted: aborted before it ran";
  written[8].result.clear();
  // Out of order, as results arrive.
  std::mt19937 rng(7);
  std::shuffle(written.begin(), written.end(), rng);
  std::int64_t run = 0;
  {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 64});
    run = db->run_id();
    for (const auto& t : written) db->append(t.row());
    db->close();
  }
  auto rd = TaskDbReader::open(path);
  std::vector<StoredTask> read;
  rd->for_each(run, [&](const StoredTask& t) { read.push_back(t); });
  REQUIRE(read.size() == written.size());
  for (std::size_t i = 0; i < read.size(); ++i) {
    INFO("task " << written[i].msg_id);
    CHECK(read[i].run == run);
    check_same(read[i], written[i]);
  }
  auto hist = rd->history(run);
  REQUIRE(hist.size() == 300);
  for (std::size_t i = 0; i < hist.size(); ++i) CHECK(hist[i] == i);
  auto big = rd->get(run, 42);
  REQUIRE(big);
  CHECK(big->result.size() == (1u << 20));
  auto it = std::find_if(written.begin(), written.end(), [](auto& t) { return t.msg_id == 42; });
  CHECK(big->result == it->result);
  CHECK_FALSE(rd->get(run, 300));
  CHECK_FALSE(rd->get(run + 1, 42));

  auto runs = rd->runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].tasks == 300);
  CHECK(runs[0].failed == 18 + 1);  // every 17th from 5, and the aborted one
  CHECK(runs[0].ok == 300 - 19);
  CHECK(runs[0].reused == 1);
  CHECK(runs[0].finished >= runs[0].started);
  CHECK(runs[0].program == "prog");
  CHECK_THAT(rd->program(), Contains("prog") && Contains(kProgram.functions_hash));
}

TEST_CASE("the metadata of a stored task is what the live task reported", "[taskdb]") {
  StoredTask t = make_task(5);
  TaskMetadata m = to_metadata(t);
  CHECK(m.msg_id == 5);
  CHECK(m.engine_id == 1);
  CHECK(m.rank == 2);
  CHECK(m.status == TaskStatus::ok);
  CHECK(m.function == "cube");
  REQUIRE(m.submitted);
  CHECK(std::chrono::duration_cast<std::chrono::nanoseconds>(m.submitted->time_since_epoch())
            .count() == t.submitted);
  CHECK(m.hostname == "node-a");
  CHECK(m.pid == 4001);
  t.started = 0;
  CHECK_FALSE(to_metadata(t).started);
}

TEST_CASE("appends are committed in batches, by size, by time and by flush", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("batch.db");
  SECTION("by size and by flush") {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 10, .batch_ms = std::chrono::hours(1)});
    for (std::uint64_t i = 0; i < 25; ++i) db->append(make_task(i).row());
    // Two full batches go to the writer at once; the partial third waits for flush.
    REQUIRE(db->wait_committed(20, std::chrono::seconds(30)));
    CHECK(db->stats().committed == 20);
    CHECK(db->reads().history(db->run_id()).size() == 25);  // the read side flushes first
    TaskDbStats s = db->stats();
    CHECK(s.appended == 25);
    CHECK(s.committed == 25);
    CHECK(s.rows == 3);
    db->flush();  // nothing new: returns at once
    CHECK(db->stats().rows == 3);
  }
  SECTION("by time") {
    auto db = TaskDb::open(path, kProgram,
                           {.batch_rows = 1000, .batch_ms = std::chrono::milliseconds(20)});
    db->append(make_task(1).row());
    // No flush: the writer commits the partial batch once its window passes.
    REQUIRE(db->wait_committed(1, std::chrono::seconds(30)));
    CHECK(db->stats().rows == 1);
  }
  SECTION("by result bytes") {
    auto db = TaskDb::open(path, kProgram,
                           {.batch_rows = 1000, .batch_bytes = 3u << 20,
                            .batch_ms = std::chrono::hours(1)});
    for (std::uint64_t i = 0; i < 3; ++i) db->append(make_task(i, TaskStatus::ok, 1u << 20).row());
    REQUIRE(db->wait_committed(3, std::chrono::seconds(30)));
    CHECK(db->stats().rows == 1);
  }
  SECTION("bad options are refused") {
    CHECK_THROWS_WITH(TaskDb::open(path, kProgram, {.batch_rows = 0}),
                      Contains(path) && Contains("batch_rows must be 1 to 1048576"));
    CHECK_THROWS_AS(TaskDb::open(path, kProgram, {.batch_rows = std::size_t(1) << 21}), UsageError);
    CHECK_THROWS_AS(TaskDb::open(path, kProgram, {.batch_ms = std::chrono::milliseconds(0)}),
                    UsageError);
    CHECK_FALSE(fs::exists(path));  // refused before the file was created
  }
}

// SQLite sizes a connection's page cache in pages from its 2000 KiB default when it opens a
// file; a new file then gets 64 KiB pages, and the count made for 4 KiB ones stayed: a cache of
// 32 MiB, every page of it memory touched for the first time. The writer's connection keeps 2 MiB
// whether the file is new or not, and what a transaction writes beyond that goes to the WAL.
TEST_CASE("a task database's SQLite page cache stays at 2 MiB, new file or not", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("cache.db");
  for (bool fresh : {true, false}) {
    INFO((fresh ? "a new file" : "an existing file"));
    REQUIRE(fs::exists(path) != fresh);
    sqlite3* db = open_task_db(path, DbAccess::write, &kProgram);
    REQUIRE(db);
    auto exec = [&](const char* statement) {
      INFO(statement);
      REQUIRE(sqlite3_exec(db, statement, nullptr, nullptr, nullptr) == SQLITE_OK);
    };
    exec("CREATE TABLE IF NOT EXISTS scratch(b)");
    exec("BEGIN");
    exec("INSERT INTO scratch VALUES(randomblob(8000000))");  // 123 pages of 64 KiB
    exec("COMMIT");
    int used = 0, highwater = 0;
    REQUIRE(sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0) == SQLITE_OK);
    CHECK(used > (1 << 20));
    CHECK(used <= (5 << 19));  // 2.5 MiB: 2 MiB of pages and their headers
    REQUIRE(sqlite3_close(db) == SQLITE_OK);
  }
}

TEST_CASE("a later run finds what an earlier run finished, by function and argument bytes",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("resume.db");
  {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 16});
    CHECK(db->resume().reusable() == 0);
    CHECK(db->run_id() == 1);
    // A half-done job: tasks 0..99 finished, 10 and 20 failed; 100..199 never ran.
    for (std::uint64_t i = 0; i < 100; ++i)
      db->append(make_task(i, i == 10 || i == 20 ? TaskStatus::error : TaskStatus::ok).row());
    db->append(make_task(100, TaskStatus::ok, 1u << 20).row());
  }  // the destructor closes
  {
    auto db = TaskDb::open(path, kProgram);
    CHECK(db->run_id() == 2);
    CHECK(db->resume().reusable() == 99);
    int hits = 0;
    for (std::uint64_t i = 0; i < 200; ++i) {
      StoredTask want = make_task(i, TaskStatus::ok, i == 100 ? 1u << 20 : 0);
      auto got = db->resume().lookup(want.function, want.key);
      bool expect = i <= 100 && i != 10 && i != 20;
      INFO("task " << i);
      REQUIRE(bool(got) == expect);
      if (!got) continue;
      ++hits;
      CHECK(got->result == want.result);
      CHECK(got->run == 1);
      CHECK(got->msg_id == i);
      CHECK(got->items == 1);
      // This run records the reuse without copying the bytes again.
      StoredTask again = want;
      again.msg_id = 1000 + i;
      again.reused = true;
      again.result.clear();
      db->append(again.row());
    }
    CHECK(hits == 99);
    CHECK(db->stats().reused == 99);
    auto runs = db->reads().runs();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].finished > 0);
    CHECK(runs[1].reused == 99);
  }
  {
    // A third run still finds the original bytes, not the second run's empty reuse records.
    auto db = TaskDb::open(path, kProgram);
    CHECK(db->resume().reusable() == 99);
    StoredTask want = make_task(3);
    auto got = db->resume().lookup(want.function, want.key);
    REQUIRE(got);
    CHECK(got->result == want.result);
    CHECK(got->run == 1);
  }
}

TEST_CASE("a task whose arguments differ by one byte, or another function, is not reused",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("key.db");
  std::string args(100, '\0');
  for (std::size_t i = 0; i < args.size(); ++i) args[i] = static_cast<char>(i * 31);
  ResumeKey k = resume_key("f", {args.data(), args.size()});
  {
    auto db = TaskDb::open(path, kProgram);
    StoredTask t = make_task(1);
    t.function = "f";
    t.key = k;
    db->append(t.row());
  }
  auto db = TaskDb::open(path, kProgram);
  REQUIRE(db->resume().lookup("f", k));
  for (std::size_t pos = 0; pos < args.size(); ++pos) {
    for (int bit : {0, 7}) {
      std::string other = args;
      other[pos] = static_cast<char>(other[pos] ^ (1 << bit));
      ResumeKey k2 = resume_key("f", {other.data(), other.size()});
      INFO("byte " << pos << " bit " << bit);
      CHECK(k2 != k);
      CHECK_FALSE(db->resume().lookup("f", k2));
    }
  }
  // One byte more or less (a zero, which the hash pads with) is another task too.
  std::string longer = args + std::string(1, '\0');
  CHECK(resume_key("f", {longer.data(), longer.size()}) != k);
  CHECK(resume_key("f", {args.data(), args.size() - 1}) != k);
  // The same bytes for another function.
  ResumeKey kg = resume_key("g", {args.data(), args.size()});
  CHECK(kg != k);
  CHECK_FALSE(db->resume().lookup("g", kg));
  CHECK_FALSE(db->resume().lookup("g", k));  // the key of f asked for g
  // Name and bytes do not run into each other.
  std::string ab = "b" + args;
  CHECK(resume_key("fb", {args.data(), args.size()}) != resume_key("f", {ab.data(), ab.size()}));
  // The key depends on the bytes, not on how they were fed in.
  KeyHasher h("f");
  for (char c : args) h.update(&c, 1);
  CHECK(h.finish() == k);
  CHECK(k.hex().size() == 32);
}

