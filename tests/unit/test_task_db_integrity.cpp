// The task database's integrity rules (docs/database.md, "Integrity"): a stored result whose
// bytes changed on disk, or that lies past the end of its row, is never returned as a value (a
// lookup refuses it and counts why; get_result fails for that record alone); a result made by
// another build of its function is not reused unless asked; and a file mpiply did not create is
// refused before SQLite touches it.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskdb/resume_index.hpp"
#include "taskdb/task_db.hpp"

#include "task_db_support.hpp"

using namespace mpiply;
using namespace mpiply::detail;
using namespace taskdb_support;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

void sql(const std::string& path, const std::string& statement) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  INFO(statement);
  CHECK(sqlite3_exec(raw, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
}

// Run 1 of a database: tasks 0..n-1 with 8 KiB results, code "build:one", one row per 16.
void write_run(const std::string& path, std::uint64_t n) {
  auto db = TaskDb::open(path, kProgram, {.batch_rows = 16});
  for (std::uint64_t i = 0; i < n; ++i) {
    StoredTask t = make_task(i, TaskStatus::ok, 8 * 1024);
    t.code = "build:one";
    db->append(t.row());
  }
}

// XORs 0x08 into the fourth byte of `pattern` wherever it lies in a results blob; returns how
// many rows changed.
int flip_bit_of(const std::string& path, const std::string& pattern) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  std::vector<std::pair<std::int64_t, std::string>> rows;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "SELECT id, results FROM blocks", -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string blob(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
    auto at = blob.find(pattern);
    if (at == std::string::npos) continue;
    blob[at + 3] = static_cast<char>(blob[at + 3] ^ 0x08);
    rows.emplace_back(sqlite3_column_int64(s, 0), std::move(blob));
  }
  sqlite3_finalize(s);
  for (auto& [id, blob] : rows) {
    REQUIRE(sqlite3_prepare_v2(raw, "UPDATE blocks SET results = ? WHERE id = ?", -1, &s,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_blob(s, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, id);
    CHECK(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
  }
  sqlite3_close(raw);
  return static_cast<int>(rows.size());
}

}  // namespace

TEST_CASE("a stored result with one flipped bit is refused, the others are reused", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("flip.db");
  write_run(path, 64);
  // Item 37's value starts with its 8-byte square; flip one bit of it where it is stored.
  std::string value = make_task(37, TaskStatus::ok, 8 * 1024).result.substr(5, 8);
  REQUIRE(flip_bit_of(path, value) == 1);
  auto db = TaskDb::open(path, kProgram);
  CHECK(db->resume().reusable() == 64);  // the index cannot tell: the check is made on reading the bytes
  std::size_t reused = 0;
  for (std::uint64_t i = 0; i < 64; ++i) {
    StoredTask want = make_task(i, TaskStatus::ok, 8 * 1024);
    auto got = db->resume().lookup(want.function, want.key, "build:one");
    INFO("task " << i);
    if (i == 37) {
      CHECK_FALSE(got);
      continue;
    }
    REQUIRE(got);
    CHECK(got->result == want.result);
    ++reused;
  }
  CHECK(reused == 63);
  CHECK(db->resume().refusals().checksum == 1);
  CHECK_THAT(db->resume().refusals().describe(), Contains("1 failed their checksum"));
  // get_result reads the record back: it fails alone, naming it; its neighbour reads fine.
  CHECK_THROWS_WITH(db->reads().get(1, 37), Contains("record 1:37") && Contains("checksum") &&
                                        Contains("not returned"));
  REQUIRE(db->reads().get(1, 36));
  CHECK(db->reads().get(1, 36)->result == make_task(36, TaskStatus::ok, 8 * 1024).result);
}

TEST_CASE("a row whose results blob was cut short costs its tasks, never the open or lookup",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("cut.db");
  write_run(path, 64);
  // As `update blocks set results=substr(results,1,100) where id=2`: 16 tasks of the 4 rows.
  sql(path, "UPDATE blocks SET results = substr(results, 1, 100) WHERE id = 2");
  auto db = TaskDb::open(path, kProgram);
  std::size_t reused = 0;
  for (std::uint64_t i = 0; i < 64; ++i) {
    StoredTask want = make_task(i, TaskStatus::ok, 8 * 1024);
    auto got = db->resume().lookup(want.function, want.key, "build:one");
    if (!got) continue;
    CHECK(got->result == want.result);
    ++reused;
  }
  CHECK(reused == 48);
  CHECK(db->resume().refusals().truncated == 16);
  CHECK(db->resume().refusals().damaged() == 16);
}

TEST_CASE("a result made by another build is not reused unless asked; a version matches "
          "across builds",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("build.db");
  {
    auto db = TaskDb::open(path, kProgram);
    for (std::uint64_t i = 0; i < 8; ++i) {
      StoredTask t = make_task(i);
      t.code = i < 4 ? "build:one" : "version:2";
      db->append(t.row());
    }
  }
  auto db = TaskDb::open(path, kProgram);
  for (std::uint64_t i = 0; i < 4; ++i) {
    StoredTask t = make_task(i);
    CHECK_FALSE(db->resume().lookup(t.function, t.key, "build:two"));  // rebuilt
    REQUIRE(db->resume().lookup(t.function, t.key, "build:two", true));  // any-build, on purpose
    REQUIRE(db->resume().lookup(t.function, t.key, "build:one"));
  }
  for (std::uint64_t i = 4; i < 8; ++i) {
    StoredTask t = make_task(i);
    CHECK(db->resume().lookup(t.function, t.key, "version:2"));
    CHECK_FALSE(db->resume().lookup(t.function, t.key, "version:3"));  // the version was bumped
  }
  CHECK(db->resume().refusals().build_changed == 8);
  CHECK(db->resume().refusals().damaged() == 0);
  CHECK_THAT(db->resume().refusals().describe(), Contains("8 were made by another build"));
}

TEST_CASE("a file mpiply did not create is refused and left byte-identical", "[taskdb]") {
  TempDir tmp;
  SECTION("an SQLite file of another application with no tables") {
    std::string path = tmp.file("foreign.db");
    sql(path, "PRAGMA user_version = 42");
    std::string before = slurp(path);
    REQUIRE_FALSE(before.empty());
    CHECK_THROWS_WITH(TaskDb::open(path, kProgram),
                      Contains(path) && Contains("another application") &&
                          Contains("user_version 42") && Contains("never writes"));
    CHECK_THROWS_WITH(TaskDbReader::open(path), Contains("another application"));
    CHECK(slurp(path) == before);
    CHECK_FALSE(fs::exists(path + "-journal"));
    CHECK_FALSE(fs::exists(path + "-wal"));
  }
  SECTION("an SQLite file with another application id") {
    std::string path = tmp.file("app.db");
    sql(path, "PRAGMA application_id = 1234");
    std::string before = slurp(path);
    CHECK_THROWS_WITH(TaskDb::open(path, kProgram), Contains("application id 0x4d2"));
    CHECK(slurp(path) == before);
  }
  SECTION("a path that is not a regular file gets no side file") {
    CHECK_THROWS_WITH(TaskDb::open("/dev/null", kProgram),
                      Contains("'/dev/null' is not a regular file"));
    CHECK_FALSE(fs::exists("/dev/null-journal"));
    CHECK_FALSE(fs::exists("/dev/null-wal"));
  }
  SECTION("an empty file is taken (it is what an interrupted creation leaves)") {
    std::string path = tmp.file("empty.db");
    spit(path, "");
    TaskDb::open(path, kProgram)->close();
    TaskDb::open(path, kProgram)->close();
  }
}

TEST_CASE("a database of the previous format is refused with the fix", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("old.db");
  TaskDb::open(path, kProgram)->close();
  sql(path, "PRAGMA user_version = 1");
  std::string before = slurp(path);
  CHECK_THROWS_WITH(TaskDb::open(path, kProgram),
                    Contains("task-database format 1") && Contains("reads and writes format 2") &&
                        Contains("Delete it to start afresh"));
  CHECK(slurp(path) == before);
}
