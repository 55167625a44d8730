// The task database refuses what it must not write (corrupt, truncated, another program,
// another format, locked, a reader (of a snapshot) while a job writes), survives its process dying
// without closing, and reports failed writes.
#include <catch2/catch.hpp>

#include <cstdlib>

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

#include "task_db_support.hpp"

using namespace mpiply;
using namespace mpiply::detail;
using namespace taskdb_support;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("a database that is not ours to write is refused with the file and the fix",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("refused.db");
  auto refused = [&](const std::string& why) {
    std::string before = slurp(path);
    CHECK_THROWS_WITH(TaskDb::open(path, kProgram),
                      Contains(path) && Contains(why) && Contains("another database path"));
    CHECK(slurp(path) == before);  // never overwritten
  };

  SECTION("garbage") {
    std::string junk(64 * 1024, '\0');
    std::mt19937 rng(1);
    for (char& c : junk) c = static_cast<char>(rng());
    spit(path, junk);
    refused("is not an SQLite database");
    CHECK_THROWS_WITH(TaskDbReader::open(path), Contains(path) && Contains("not an SQLite"));
  }
  SECTION("truncated") {
    {
      auto db = TaskDb::open(path, kProgram, {.batch_rows = 8});
      for (std::uint64_t i = 0; i < 64; ++i)
        db->append(make_task(i, TaskStatus::ok, 64 * 1024).row());
    }
    std::string whole = slurp(path);
    REQUIRE(whole.size() > (4u << 20));
    spit(path, whole.substr(0, whole.size() / 2));
    refused("corrupt or truncated");
  }
  SECTION("written by another program") {
    TaskDb::open(path, kProgram)->close();
    ProgramIdentity other = kProgram;
    other.executable = "other";
    std::string before = slurp(path);
    CHECK_THROWS_WITH(TaskDb::open(path, other),
                      Contains(path) && Contains("another program ('prog'; this is 'other')") &&
                          Contains("Delete it"));
    other = kProgram;
    other.functions_hash = "ffffffffffffffffffffffffffffffff";
    other.functions = 4;
    CHECK_THROWS_WITH(TaskDb::open(path, other),
                      Contains(path) && Contains("other registered functions (3 then, 4 now"));
    CHECK(slurp(path) == before);
    TaskDb::open(path, kProgram)->close();  // and the right program still opens it
  }
  SECTION("written in another format version") {
    TaskDb::open(path, kProgram)->close();
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    refused("task-database format 99");
    CHECK_THROWS_WITH(TaskDbReader::open(path), Contains("format 99"));
  }
  SECTION("a damaged packed row (SQLite itself intact)") {
    {
      auto db = TaskDb::open(path, kProgram);
      for (std::uint64_t i = 0; i < 10; ++i) db->append(make_task(i).row());
    }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "UPDATE blocks SET meta = x'0100ffffffff'", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    {
      // The row costs its own tasks (they would run again), never the open.
      auto db = TaskDb::open(path, kProgram);
      CHECK(db->resume().reusable() == 0);
      CHECK(db->resume().refusals().damaged_rows == 10);
    }
    auto rd = TaskDbReader::open(path);
    CHECK_THROWS_WITH(rd->for_each(0, [](const StoredTask&) {}),
                      Contains(path) && Contains("is corrupt") && Contains("checksum"));
  }
  SECTION("another application's SQLite file") {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    refused("another application");
  }
  SECTION("a reader asks for a file that is not there") {
    CHECK_THROWS_WITH(TaskDbReader::open(tmp.file("missing.db")),
                      Contains("missing.db") && Contains("does not exist"));
  }
}

TEST_CASE("a database held by another process is refused to a second job and read from a "
          "snapshot by a reader",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("locked.db");
  // About a megabyte of results, flushed and not closed: the job is still running.
  constexpr std::uint64_t kTasks = 3000;
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 1;
    try {
      auto db = TaskDb::open(path, kProgram);
      for (std::uint64_t i = 1; i <= kTasks; ++i)
        db->append(make_task(i, i % 100 == 7 ? TaskStatus::error : TaskStatus::ok, 300).row());
      db->flush();
      char c = 1;
      if (::write(ready[1], &c, 1) == 1 && ::read(done[0], &c, 1) == 1) rc = 0;
    } catch (...) {
    }
    ::_exit(rc);  // the lock goes with the process
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  CHECK_THROWS_WITH(TaskDb::open(path, kProgram),
                    Contains(path) && Contains("locked by another process"));
  // The snapshot goes to TMPDIR: here, this test's own directory.
  const char* old_tmpdir = std::getenv("TMPDIR");
  std::string saved = old_tmpdir ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.dir.c_str(), 1);
  {
    auto rd = TaskDbReader::open(path);
    CHECK(rd->snapshot());
    CHECK(std::distance(fs::directory_iterator(tmp.dir), fs::directory_iterator()) > 1);
    auto runs = rd->runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].finished == 0);  // the run is still open
    std::uint64_t seen = 0, failed = 0;
    rd->for_each(0, [&](const StoredTask& t) {
      ++seen;
      failed += t.status == TaskStatus::error;
      if (t.msg_id == 1234) check_same(t, make_task(1234, TaskStatus::ok, 300));
    });
    CHECK(seen == kTasks);
    CHECK(failed == kTasks / 100);
  }
  // The snapshot's directory goes with the reader.
  for (const auto& e : fs::directory_iterator(tmp.dir))
    CHECK(e.path().filename().string().rfind("mpiply-db-", 0) != 0);
  if (old_tmpdir) ::setenv("TMPDIR", saved.c_str(), 1);
  else ::unsetenv("TMPDIR");
  REQUIRE(::write(done[1], &c, 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  // Once that process is gone, the database opens, with what it flushed.
  auto db = TaskDb::open(path, kProgram);
  CHECK(db->resume().reusable() == kTasks - kTasks / 100);
}

TEST_CASE("a reader reads a snapshot while this process writes the database", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("busy.db");
  auto db = TaskDb::open(path, kProgram);
  db->append(make_task(1).row());
  db->flush();
  {
    auto rd = TaskDbReader::open(path);
    CHECK(rd->snapshot());
    auto t = rd->get(1, 1);
    REQUIRE(t);
    check_same(*t, make_task(1));
  }
  db->close();
  auto rd = TaskDbReader::open(path);
  CHECK_FALSE(rd->snapshot());
  CHECK(rd->runs().size() == 1);
}

TEST_CASE("what a process flushed survives it dying without closing", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("crash.db");
  constexpr std::uint64_t kFlushed = 5000;
  int rc = in_child([&] {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 512, .batch_ms = std::chrono::hours(1)});
    for (std::uint64_t i = 0; i < kFlushed; ++i) db->append(make_task(i).row());
    db->append(make_task(kFlushed, TaskStatus::ok, 1u << 20).row());
    db->flush();
    // Appended after the flush, inside the batch window: may be lost, must not break anything.
    for (std::uint64_t i = kFlushed + 1; i < kFlushed + 100; ++i) db->append(make_task(i).row());
    ::_exit(0);  // no close, no destructor, no checkpoint: as a crash or a kill leaves it
    return 1;
  });
  REQUIRE(rc == 0);
  REQUIRE(fs::exists(path + "-wal"));  // the commits are still in the write-ahead log
  {
    auto rd = TaskDbReader::open(path);
    auto runs = rd->runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].finished == 0);  // never closed
    CHECK(runs[0].tasks >= kFlushed + 1);
    auto hist = rd->history(runs[0].id);
    REQUIRE(hist.size() >= kFlushed + 1);
    for (std::uint64_t i = 0; i <= kFlushed; ++i) REQUIRE(hist[i] == i);
    auto big = rd->get(runs[0].id, kFlushed);
    REQUIRE(big);
    CHECK(big->result == make_task(kFlushed, TaskStatus::ok, 1u << 20).result);
  }
  auto db = TaskDb::open(path, kProgram);
  CHECK(db->resume().reusable() >= kFlushed + 1);
  StoredTask t = make_task(1234);
  auto got = db->resume().lookup(t.function, t.key);
  REQUIRE(got);
  CHECK(got->result == t.result);
}

TEST_CASE("a failed write is reported by flush and close, and appends go on", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("full.db");
  int rc = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG, as on a full disk
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 1});
    for (std::uint64_t i = 0; i < 2; ++i) db->append(make_task(i).row());
    db->flush();
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = 3u << 20;
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 20;
    for (std::uint64_t i = 2; i < 10; ++i) db->append(make_task(i, TaskStatus::ok, 1u << 20).row());
    try {
      db->flush();
      return 10;
    } catch (const UsageError& e) {
      if (!std::strstr(e.what(), "could not be written") || !std::strstr(e.what(), path.c_str()))
        return 11;
    }
    db->append(make_task(100).row());  // results keep arriving: never an exception here
    try {
      db->close();
      return 12;
    } catch (const UsageError&) {
    }
    return 0;
  });
  REQUIRE(rc == 0);
  // What was committed before the failure is intact.
  auto rd = TaskDbReader::open(path);
  auto hist = rd->history(1);
  REQUIRE(hist.size() >= 2);
  CHECK(hist.size() < 10);
  CHECK(hist[0] == 0);
  CHECK(hist[1] == 1);
}
