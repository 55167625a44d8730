// The task database's integrity end to end (docs/database.md, "Integrity"), at every rank count:
// a stored value with a flipped bit, and a row cut short, cost their tasks (they run again and
// the job returns the right values), never the job; a rebuilt program does not reuse the old
// build's results, except those of a function registered with a version, or when asked to.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <mpiply/mpiply.hpp>

#include "runtime/build_id.hpp"
#include "support.hpp"

namespace {

constexpr mpiply::Seconds kBound{120};
constexpr long kItems = 2000;

long square_plus_seven(long x) { return x * x + 7; }
long cube(long x) { return x * x * x; }

}  // namespace

MPIPLY_REGISTER(square_plus_seven);
MPIPLY_REGISTER_VERSIONED(cube, "1");

namespace {

struct TempDb {
  std::string path;
  explicit TempDb(const char* tag)
      : path("/tmp/mpiply-test-integrity-" + std::to_string(getpid()) + "-" + tag + ".db") {
    remove_files();
  }
  ~TempDb() { remove_files(); }
  void remove_files() const {
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
  }
};

bool is_rank0() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank == 0;
}

// Rank 0 edits the file between runs (the other ranks wait in the next run's start-up).
void on_rank0(const std::function<void(sqlite3*)>& edit, const std::string& path) {
  if (!is_rank0()) return;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  edit(db);
  sqlite3_close(db);
}

// Runs the map of fn over 0..kItems-1 with chunksize 1; returns how many items were reused, and
// checks every value.
std::size_t map_run(const std::string& path, long (*fn)(long),
                    std::optional<mpiply::DbReuse> reuse = std::nullopt) {
  mpiply::RunOptions o;
  o.db = path;
  o.db_reuse = reuse;
  std::size_t reused = 0;
  std::vector<long> xs(kItems);
  for (long i = 0; i < kItems; ++i) xs[static_cast<std::size_t>(i)] = i;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) {
    auto amr = c.load_balanced_view().map_async(fn, xs, {.chunksize = 1});
    std::vector<long> got = amr.get(kBound);
    for (long i = 0; i < kItems; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == fn(i));
    for (const auto& m : amr.metadata()) reused += m.reused ? 1 : 0;
    return 0;
  });
  REQUIRE(rc == 0);
  return reused;
}

}  // namespace

TEST_CASE("a stored value with a flipped bit runs again and comes back right", "[db]") {
  TempDb db("flip");
  CHECK(map_run(db.path, square_plus_seven) == 0);
  // Item 1234's 8-byte value, as the reproduction: XOR one byte with 0x08.
  long v = square_plus_seven(1234);
  std::string pattern(8, '\0');
  std::memcpy(pattern.data(), &v, 8);
  on_rank0(
      [&](sqlite3* raw) {
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(raw, "SELECT id, results FROM blocks", -1, &s, nullptr) == 0);
        std::int64_t id = 0;
        std::string blob;
        while (sqlite3_step(s) == SQLITE_ROW) {
          std::string b(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                        static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
          auto at = b.find(pattern);
          if (at == std::string::npos) continue;
          b[at + 2] = static_cast<char>(b[at + 2] ^ 0x08);
          id = sqlite3_column_int64(s, 0);
          blob = std::move(b);
        }
        sqlite3_finalize(s);
        REQUIRE(id != 0);
        REQUIRE(sqlite3_prepare_v2(raw, "UPDATE blocks SET results = ? WHERE id = ?", -1, &s,
                                   nullptr) == 0);
        sqlite3_bind_blob(s, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, id);
        REQUIRE(sqlite3_step(s) == SQLITE_DONE);
        sqlite3_finalize(s);
      },
      db.path);
  std::size_t reused = map_run(db.path, square_plus_seven);
  if (is_rank0()) CHECK(reused == kItems - 1);  // every value checks out but item 1234's
}

TEST_CASE("a row cut short costs its tasks, never the job", "[db]") {
  TempDb db("cut");
  CHECK(map_run(db.path, square_plus_seven) == 0);
  on_rank0(
      [&](sqlite3* raw) {
        REQUIRE(sqlite3_exec(raw,
                             "UPDATE blocks SET results = substr(results, 1, 100) WHERE id = "
                             "(SELECT min(id) FROM blocks)",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
      },
      db.path);
  std::size_t reused = map_run(db.path, square_plus_seven);
  // The first row's tasks past byte 100 ran again (results are 13 bytes each); the rest reused.
  if (is_rank0()) {
    CHECK(reused < static_cast<std::size_t>(kItems));
    CHECK(reused >= 7);
  }
  // And the third run reuses everything: the rerun tasks were recorded afresh.
  std::size_t third = map_run(db.path, square_plus_seven);
  if (is_rank0()) CHECK(third == static_cast<std::size_t>(kItems));
}

TEST_CASE("a rebuilt program reuses only versioned functions, unless asked", "[db]") {
  TempDb db("rebuild");
  CHECK(map_run(db.path, square_plus_seven) == 0);
  CHECK(map_run(db.path, cube) == 0);
  // As if the program had been rebuilt (every rank: they must agree on the build).
  mpiply::detail::override_build_id_for_tests("feedfacefeedface");
  std::size_t plain = map_run(db.path, square_plus_seven);
  std::size_t versioned = map_run(db.path, cube);
  mpiply::detail::override_build_id_for_tests("0badc0de0badc0de");
  std::size_t any = map_run(db.path, square_plus_seven, mpiply::DbReuse::any_build);
  mpiply::detail::override_build_id_for_tests("");
  if (is_rank0()) {
    CHECK(plain == 0);
    CHECK(versioned == static_cast<std::size_t>(kItems));
    CHECK(any == static_cast<std::size_t>(kItems));
  }
}
