// The task database on its own (no MPI): records round-trip, batching and flush, resume look-up,
// the refusals (corrupt, truncated, another program, another format, locked), and that what a
// process flushed survives it dying without closing.
#define CATCH_CONFIG_MAIN
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

#include "task_db.hpp"

using namespace mpiply;
using namespace mpiply::detail;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mpiply-taskdb-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const char* name) const { return (dir / name).string(); }
};

const ProgramIdentity kProgram{"prog", "0123456789abcdef0123456789abcdef", 3};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A result message body as rank 0 receives it: per item u8 status, u32 length, value bytes.
std::string result_of(std::uint64_t v, std::size_t pad = 0) {
  std::string value(8 + pad, '\0');
  std::memcpy(value.data(), &v, 8);
  for (std::size_t i = 8; i < value.size(); ++i) value[i] = static_cast<char>(i * 7 + v);
  std::string out(1, '\0');
  auto len = static_cast<std::uint32_t>(value.size());
  out.append(reinterpret_cast<const char*>(&len), 4);
  return out + value;
}

std::string args_of(std::uint64_t i) {  // stands in for a task message after its header
  std::string a(12, '\0');
  std::memcpy(a.data() + 4, &i, 8);
  return a;
}

struct Made {
  StoredTask t;
};

StoredTask make_task(std::uint64_t i, TaskStatus status = TaskStatus::ok, std::size_t pad = 0) {
  StoredTask t;
  t.msg_id = i;
  t.function = i % 3 == 0 ? "square" : "cube";
  std::string a = args_of(i);
  t.key = resume_key(t.function, {a.data(), a.size()});
  t.status = status;
  t.submitted = 1'700'000'000'000'000'000 + std::int64_t(i) * 1000;
  t.started = t.submitted + 500;
  t.completed = t.started + 20'000;
  t.received = t.completed + 700;
  t.engine = static_cast<std::int32_t>(i % 4);
  t.thread = static_cast<std::uint32_t>(i % 2);
  t.hostname = i % 2 ? "node-a" : "node-b";
  t.pid = 4000 + std::int64_t(i % 4);
  t.items = 1;
  if (status == TaskStatus::ok) t.result = result_of(i * i, pad);
  else t.error = "ValueError: bad input " + std::to_string(i);
  return t;
}

void check_same(const StoredTask& a, const StoredTask& b) {
  CHECK(a.msg_id == b.msg_id);
  CHECK(a.function == b.function);
  CHECK(a.key == b.key);
  CHECK(a.status == b.status);
  CHECK(a.reused == b.reused);
  CHECK(a.submitted == b.submitted);
  CHECK(a.started == b.started);
  CHECK(a.completed == b.completed);
  CHECK(a.received == b.received);
  CHECK(a.engine == b.engine);
  CHECK(a.thread == b.thread);
  CHECK(a.hostname == b.hostname);
  CHECK(a.pid == b.pid);
  CHECK(a.items == b.items);
  CHECK(a.error == b.error);
  CHECK(a.result == b.result);
}

// Runs fn in a child process; returns its exit status (fn's return value, or 99 on a throw).
template <class F>
int in_child(F fn) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 99;
    try {
      rc = fn();
    } catch (...) {
    }
    ::_exit(rc);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

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
    CHECK(db->history(db->run_id()).size() == 25);  // the read side flushes first
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

TEST_CASE("a later run finds what an earlier run finished, by function and argument bytes",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("resume.db");
  {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 16});
    CHECK(db->reusable() == 0);
    CHECK(db->run_id() == 1);
    // A half-done job: tasks 0..99 finished, 10 and 20 failed; 100..199 never ran.
    for (std::uint64_t i = 0; i < 100; ++i)
      db->append(make_task(i, i == 10 || i == 20 ? TaskStatus::error : TaskStatus::ok).row());
    db->append(make_task(100, TaskStatus::ok, 1u << 20).row());
  }  // the destructor closes
  {
    auto db = TaskDb::open(path, kProgram);
    CHECK(db->run_id() == 2);
    CHECK(db->reusable() == 99);
    int hits = 0;
    for (std::uint64_t i = 0; i < 200; ++i) {
      StoredTask want = make_task(i, TaskStatus::ok, i == 100 ? 1u << 20 : 0);
      auto got = db->lookup(want.function, want.key);
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
    auto runs = db->runs();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].finished > 0);
    CHECK(runs[1].reused == 99);
  }
  {
    // A third run still finds the original bytes, not the second run's empty reuse records.
    auto db = TaskDb::open(path, kProgram);
    CHECK(db->reusable() == 99);
    StoredTask want = make_task(3);
    auto got = db->lookup(want.function, want.key);
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
  REQUIRE(db->lookup("f", k));
  for (std::size_t pos = 0; pos < args.size(); ++pos) {
    for (int bit : {0, 7}) {
      std::string other = args;
      other[pos] = static_cast<char>(other[pos] ^ (1 << bit));
      ResumeKey k2 = resume_key("f", {other.data(), other.size()});
      INFO("byte " << pos << " bit " << bit);
      CHECK(k2 != k);
      CHECK_FALSE(db->lookup("f", k2));
    }
  }
  // One byte more or less (a zero, which the hash pads with) is another task too.
  std::string longer = args + std::string(1, '\0');
  CHECK(resume_key("f", {longer.data(), longer.size()}) != k);
  CHECK(resume_key("f", {args.data(), args.size() - 1}) != k);
  // The same bytes for another function.
  ResumeKey kg = resume_key("g", {args.data(), args.size()});
  CHECK(kg != k);
  CHECK_FALSE(db->lookup("g", kg));
  CHECK_FALSE(db->lookup("g", k));  // the key of f asked for g
  // Name and bytes do not run into each other.
  std::string ab = "b" + args;
  CHECK(resume_key("fb", {args.data(), args.size()}) != resume_key("f", {ab.data(), ab.size()}));
  // The key depends on the bytes, not on how they were fed in.
  KeyHasher h("f");
  for (char c : args) h.update(&c, 1);
  CHECK(h.finish() == k);
  CHECK(k.hex().size() == 32);
}

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
    refused("is corrupt");
    auto rd = TaskDbReader::open(path);
    CHECK_THROWS_WITH(rd->for_each(0, [](const StoredTask&) {}),
                      Contains(path) && Contains("is corrupt") && Contains("malformed"));
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

TEST_CASE("a database held by another process is refused as locked, not waited for",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("locked.db");
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 1;
    try {
      auto db = TaskDb::open(path, kProgram);
      db->append(make_task(1).row());
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
  CHECK_THROWS_WITH(TaskDbReader::open(path), Contains("locked by another process"));
  REQUIRE(::write(done[1], &c, 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  // Once that process is gone, the database opens, with what it flushed.
  auto db = TaskDb::open(path, kProgram);
  CHECK(db->reusable() == 1);
}

TEST_CASE("a reader is refused while this process writes the database", "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("busy.db");
  auto db = TaskDb::open(path, kProgram);
  CHECK_THROWS_WITH(TaskDbReader::open(path), Contains("locked"));
  db->close();
  CHECK(TaskDbReader::open(path)->runs().size() == 1);
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
  CHECK(db->reusable() >= kFlushed + 1);
  StoredTask t = make_task(1234);
  auto got = db->lookup(t.function, t.key);
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
