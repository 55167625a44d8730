// Live output and published data (docs/output.md): with streaming on, what a running task writes
// and publishes reaches rank 0 before the task ends (ar.stdout(), ar.data() while !ready()); a
// megabyte streams whole and in order; the result still carries exactly the whole output; data
// travels with the result when streaming is off; publish_data outside a task is a UsageError.
// A task waits for a flag file rank 0 creates once it has seen the output (bounded on both
// sides). With one rank the task runs inline on rank 0: no live view, everything with the result.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

constexpr mpiply::Seconds kBound{120};
constexpr long kMiB = 1 << 20;

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Waits (bounded) until rank 0 creates `path`; true if it did.
bool wait_for_flag(const std::string& path) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(100);
  while (!exists(path)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Prints n lines and publishes its step after each, then waits for the flag, then prints one
// more line and publishes "done".
std::string lines_then_wait(std::string path, int n) {
  for (int i = 0; i < n; ++i) {
    std::printf("line %d\n", i);
    std::fflush(stdout);
    std::fprintf(stderr, "err %d\n", i);
    mpiply::publish_data({{"step", std::int64_t(i)}, {"name", std::string("work")}});
  }
  bool released = wait_for_flag(path);
  std::printf("after\n");
  mpiply::publish_data({{"done", true}, {"series", std::vector<double>{1.5, 2.5}}});
  return released ? "released" : "timed out";
}

// A megabyte of numbered 16-byte lines, written in one go, then the wait.
std::string burst_then_wait(std::string path) {
  std::string s;
  for (long i = 0; i < kMiB / 16; ++i) s += fmt::format("{:015d}\n", i);
  if (write(1, s.data(), s.size()) != static_cast<ssize_t>(s.size())) return "short write";
  return wait_for_flag(path) ? "released" : "timed out";
}

double publish_square(double x) {
  mpiply::publish_data({{"x", x}, {"x2", x * x}});
  return x * x;
}

std::string megabyte_of_lines() {
  std::string s;
  for (long i = 0; i < kMiB / 16; ++i) s += fmt::format("{:015d}\n", i);
  return s;
}

}  // namespace

MPIPLY_REGISTER(lines_then_wait);
MPIPLY_REGISTER(burst_then_wait);
MPIPLY_REGISTER(publish_square);

namespace {

mpiply::RunOptions streaming(bool print = false) {
  mpiply::RunOptions o;
  o.stream_output = true;
  o.stream_print = print;
  o.stream_interval = mpiply::Seconds(0.02);
  return o;
}

std::string flag_path(int e, const char* what) {
  return fmt::format("/tmp/mpiply-test-stream-{}-{}-{}", getpid(), what, e);
}

// Waits (bounded, on the result itself) until pred holds or the result is ready.
template <class P>
bool until(const mpiply::AsyncResultBase& ar, P pred) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(100);
  while (!pred()) {
    if (ar.ready() || std::chrono::steady_clock::now() > end) return false;
    ar.wait(mpiply::Seconds(0.005));
  }
  return true;
}

const char* kWhole = "line 0\nline 1\nline 2\nafter\n";

void check_final(const mpiply::AsyncResult<std::string>& ar) {
  CHECK(ar.stdout().at(0) == kWhole);
  CHECK(ar.stderr().at(0) == "err 0\nerr 1\nerr 2\n");
  mpiply::DataMap d = ar.data();
  CHECK(std::get<std::int64_t>(d.at("step")) == 2);
  CHECK(std::get<std::string>(d.at("name")) == "work");
  CHECK(std::get<bool>(d.at("done")));
  CHECK(std::get<std::vector<double>>(d.at("series")) == std::vector<double>{1.5, 2.5});
}

}  // namespace

TEST_CASE("a running task's output and data reach rank 0 before it ends", "[stream]") {
  for (bool print : {false, true}) {
    int rc = mpiply::run(1, mpiply_test::test_argv(), streaming(print), [](mpiply::Client& c) {
      for (int e : c.ids()) {
        std::string flag = flag_path(e, "lines");
        std::remove(flag.c_str());
        if (mpiply_test::world_size() == 1) {
          // Inline: the task runs inside apply_async, so the flag must exist before.
          std::ofstream(flag).put('x');
          auto ar = c[e].apply_async(lines_then_wait, flag, 3);
          CHECK(ar.wait_for_output(kBound));
          REQUIRE(ar.get(kBound) == "released");
          check_final(ar);
          std::remove(flag.c_str());
          continue;
        }
        auto ar = c[e].apply_async(lines_then_wait, flag, 3);
        bool seen = until(ar, [&] {
          mpiply::DataMap d = ar.data();
          return ar.stdout().at(0) == "line 0\nline 1\nline 2\n" &&
                 ar.stderr().at(0) == "err 0\nerr 1\nerr 2\n" && d.count("step") &&
                 std::get<std::int64_t>(d.at("step")) == 2;
        });
        CHECK(seen);
        CHECK_FALSE(ar.ready());  // the task is still waiting for the flag
        CHECK_FALSE(ar.data().count("done"));
        std::ofstream(flag).put('x');
        CHECK(ar.wait_for_output(kBound));
        REQUIRE(ar.get(kBound) == "released");
        check_final(ar);  // whole, once, in order: no streamed part repeated or lost
        std::remove(flag.c_str());
      }
    });
    CHECK(rc == 0);
  }
}

TEST_CASE("a megabyte streams whole and in order while the task runs", "[stream]") {
  int rc = mpiply::run(1, mpiply_test::test_argv(), streaming(), [](mpiply::Client& c) {
    const std::string whole = megabyte_of_lines();
    for (int e : c.ids()) {
      std::string flag = flag_path(e, "burst");
      std::remove(flag.c_str());
      bool inline_engine = mpiply_test::world_size() == 1;
      if (inline_engine) std::ofstream(flag).put('x');
      auto ar = c[e].apply_async(burst_then_wait, flag);
      if (!inline_engine) {
        CHECK(until(ar, [&] { return ar.stdout().at(0).size() == whole.size(); }));
        CHECK_FALSE(ar.ready());
        CHECK(ar.stdout().at(0) == whole);
        std::ofstream(flag).put('x');
      }
      REQUIRE(ar.get(kBound) == "released");
      CHECK(ar.stdout().at(0) == whole);
      std::remove(flag.c_str());
    }
  });
  CHECK(rc == 0);
}

TEST_CASE("published data arrives with the result without streaming or capture", "[stream]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    std::vector<double> xs{1, 2, 3, 4, 5};
    auto amr = lv.map_async(publish_square, xs, {.chunksize = 2});
    CHECK(amr.wait_for_output(kBound));
    REQUIRE(amr.get(kBound) == std::vector<double>{1, 4, 9, 16, 25});
    std::vector<mpiply::DataMap> d = amr.data();
    REQUIRE(d.size() == 3);  // one map per task (chunk): the latest value of each key
    CHECK(std::get<double>(d[0].at("x")) == 2);
    CHECK(std::get<double>(d[1].at("x2")) == 16);
    CHECK(std::get<double>(d[2].at("x")) == 5);
    CHECK(amr.stdout().at(0).empty());  // capture stays off
    CHECK_FALSE(amr.metadata().at(0).usage.has_value());

    auto one = lv.apply_async(publish_square, 3.0);
    REQUIRE(one.get(kBound) == 9);
    CHECK(std::get<double>(one.data().at("x2")) == 9);
  });
  CHECK(rc == 0);
}

TEST_CASE("publish_data outside a task is a UsageError", "[stream]") {
  int rc = mpiply::run(1, mpiply_test::test_argv(), streaming(), [](mpiply::Client&) {
    CHECK_THROWS_AS(mpiply::publish_data({{"x", 1.0}}), mpiply::UsageError);
    try {
      mpiply::publish_data({{"x", 1.0}});
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("outside a task"));
    }
  });
  CHECK(rc == 0);
  CHECK_THROWS_AS(mpiply::publish_data({{"x", std::int64_t(1)}}), mpiply::UsageError);
}

TEST_CASE("bad stream settings are refused with the fix", "[stream]") {
  mpiply::RunOptions o;
  o.stream_interval = mpiply::Seconds(0);
  bool ran = false;
  int rc = mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client&) { ran = true; });
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}
