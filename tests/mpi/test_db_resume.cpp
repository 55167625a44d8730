// The task database wired into rank 0 (RunOptions::db / MPIPLY_DB, docs/database.md): a second
// run of the same calls takes the results of tasks that succeeded from the database, through the
// same path a result takes (values, metadata, done callbacks), without sending them; failed
// tasks and tasks with Reference arguments run again; db_resume = false only records.
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

constexpr mpiply::Seconds kBound{60};

long square_or_raise(long x) {
  if (x == 13) throw std::runtime_error("thirteen");
  return x * x;
}
std::vector<char> megabyte(int seed) { return mpiply_test::patterned_megabyte(seed); }
int plus_one(int x) { return x + 1; }

}  // namespace

MPIPLY_REGISTER(square_or_raise);
MPIPLY_REGISTER(megabyte);
MPIPLY_REGISTER(plus_one);

namespace {

// A fresh database file per test case on rank 0 (the only rank that opens it).
struct TempDb {
  std::string path;
  explicit TempDb(const char* tag)
      : path("/tmp/mpiply-test-db-" + std::to_string(getpid()) + "-" + tag + ".db") {
    remove_files();
  }
  ~TempDb() { remove_files(); }
  void remove_files() const {
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
  }
};

int run_with(const std::string& path, std::optional<bool> resume,
             const std::function<void(mpiply::Client&)>& body) {
  mpiply::RunOptions o;
  o.db = path;
  o.db_resume = resume;
  return mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) {
    body(c);
    return 0;
  });
}

std::size_t count_reused(const std::vector<mpiply::TaskMetadata>& md) {
  std::size_t n = 0;
  for (const auto& m : md) n += m.reused ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a rerun reuses the results of tasks that succeeded", "[db]") {
  TempDb db("reuse");
  std::vector<long> xs;
  for (long i = 0; i < 40; ++i) xs.push_back(i);
  for (int pass = 0; pass < 2; ++pass) {
    int rc = run_with(db.path, std::nullopt, [&](mpiply::Client& c) {
      auto v = c.load_balanced_view();
      auto amr = v.map_async(square_or_raise, xs);
      auto big = v.apply_async(megabyte, 7);
      std::promise<void> called;
      auto callback_ran = called.get_future();
      big.add_done_callback([&](const auto&) { called.set_value(); });
      auto got = amr.get(mpiply::return_exceptions, kBound);
      for (long i = 0; i < 40; ++i) {
        if (i == 13) {
          CHECK_FALSE(got[static_cast<std::size_t>(i)].ok());
        } else {
          REQUIRE(got[static_cast<std::size_t>(i)].ok());
          CHECK(got[static_cast<std::size_t>(i)].value() == i * i);
        }
      }
      CHECK(big.get(kBound) == megabyte(7));
      auto md = amr.metadata();
      REQUIRE(md.size() == 40);
      if (pass == 0) {
        CHECK(count_reused(md) == 0);
        CHECK_FALSE(big.metadata().at(0).reused);
      } else {
        // Every successful task came from the database: not sent, engine -1. The failed one ran.
        CHECK(count_reused(md) == 39);
        CHECK_FALSE(md[13].reused);
        CHECK(md[13].status == mpiply::TaskStatus::error);
        CHECK(md[13].engine_id >= 0);
        CHECK(md[0].engine_id == -1);
        CHECK(md[0].status == mpiply::TaskStatus::ok);
        CHECK(big.metadata().at(0).reused);
      }
      // The done callback runs for a reused result as for a live one (bounded wait).
      CHECK(callback_ran.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    });
    REQUIRE(rc == 0);
  }
}

TEST_CASE("tasks with Reference arguments or chosen engines, and runs with db_resume off, are "
          "never reused",
          "[db]") {
  TempDb db("refs");
  for (int pass = 0; pass < 3; ++pass) {
    // Pass 1: db_resume off (records only); pass 2: on.
    std::optional<bool> resume = pass == 1 ? std::optional<bool>(false) : std::nullopt;
    int rc = run_with(db.path, resume, [&](mpiply::Client& c) {
      c.direct_view().push({{"x", 41}});
      auto v = c.load_balanced_view();
      auto by_ref = v.apply_async(plus_one, mpiply::Reference<int>("x"));
      auto by_value = v.apply_async(plus_one, 41);
      CHECK(by_ref.get(kBound) == 42);
      CHECK(by_value.get(kBound) == 42);
      CHECK_FALSE(by_ref.metadata().at(0).reused);
      // Sent to chosen engines: about those engines' state, which the key does not see.
      auto direct = c.direct_view().apply_async(plus_one, 41);
      for (const auto& m : direct.metadata()) CHECK_FALSE(m.reused);
      CHECK(direct.wait(kBound));
      CHECK(by_value.metadata().at(0).reused == (pass == 2));
    });
    REQUIRE(rc == 0);
  }
}
