// Captured task output (docs/output.md): whatever a task writes to stdout and stderr on its
// engine (std::cout, printf, write(1, ...), a child process) reaches rank 0 with its result, in
// ar.stdout() / ar.stderr() and TaskMetadata, for isolated and threaded engines too; a megabyte
// passes; past the cap the text is cut with a marker; a failing task keeps its output; nothing
// leaks into the next task; display_outputs prints ipyparallel's blocks; and each task's CPU
// time and peak memory are recorded.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;

namespace {

constexpr mpiply::Seconds kBound{120};
constexpr long kMiB = 1 << 20;
char arg0[] = "test_capture";
char* argv[] = {arg0, nullptr};

// Writes through every path, without flushing anything: the capture must flush.
int write_everything(int tag) {
  std::cout << "cout-" << tag << '\n';
  std::printf("printf-%d\n", tag);
  std::string raw = fmt::format("write-{}\n", tag);
  if (write(1, raw.data(), raw.size()) < 0) return -1;
  std::string cmd = fmt::format("echo child-{}; echo child-err-{} 1>&2", tag, tag);
  if (std::system(cmd.c_str()) != 0) return -2;
  std::cerr << "cerr-" << tag << '\n';
  std::fprintf(stderr, "fprintf-%d\n", tag);
  return tag;
}
int quiet(int x) { return x; }
// n bytes to stdout through write(1) and printf, half each.
long burst(long n) {
  std::string chunk(static_cast<std::size_t>(n / 2), 'x');
  if (write(1, chunk.data(), chunk.size()) < 0) return -1;
  std::string rest(static_cast<std::size_t>(n - n / 2), 'y');
  std::fputs(rest.c_str(), stdout);
  return n;
}
int print_then_fail(int x) {
  std::printf("about to fail %d\n", x);
  std::fprintf(stderr, "failing now %d\n", x);
  throw std::runtime_error("task failed on purpose");
}
int whoami() {
  int id = mpiply::this_engine().id();
  std::printf("out-%d\n", id);
  std::fprintf(stderr, "err-%d\n", id);
  return id;
}
int two_lines() {
  std::printf("a\nb\n");
  return 0;
}
// Spins until this thread used 20 ms of CPU.
int busy() {
  timespec t0, t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  volatile double x = 0;
  do {
    for (int i = 0; i < 10000; ++i) x = x + i * 0.5;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1'000'000'000L + (t.tv_nsec - t0.tv_nsec) < 20'000'000L);
  return 1;
}
// Task i: a raw write (a system call that writes), getpid (one that does not), or nothing at all.
int syscall_mix(int i) {
  if (i % 3 == 0) {
    std::string s = fmt::format("w{}\n", i);
    if (write(1, s.data(), s.size()) < 0) return -1;
  } else if (i % 3 == 1) {
    if (getpid() <= 0) return -1;
  }
  return i;
}
int print_value(int x) {
  std::printf("value %d\n", x);
  return x;
}

}  // namespace

MPIPLY_REGISTER(write_everything);
MPIPLY_REGISTER(quiet);
MPIPLY_REGISTER(burst);
MPIPLY_REGISTER(print_then_fail);
MPIPLY_REGISTER(whoami);
MPIPLY_REGISTER(two_lines);
MPIPLY_REGISTER(busy);
MPIPLY_REGISTER(print_value);
MPIPLY_REGISTER(syscall_mix);

namespace {

mpiply::RunOptions capture(bool isolate = false, int threads = 1) {
  mpiply::RunOptions o;
  o.capture_output = true;
  o.isolate = isolate;
  o.engine_threads = threads;
  return o;
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

void check_every_writer(mpiply::Client& c) {
  for (int e : c.ids()) {
    int tag = 100 + e;
    auto r = c[e].apply_async(write_everything, tag);
    REQUIRE(r.get(kBound) == tag);
    std::string out = r.stdout().at(0), err = r.stderr().at(0);
    for (const char* w : {"cout", "printf", "write", "child"})
      CHECK_THAT(out, Contains(fmt::format("{}-{}\n", w, tag)));
    for (const char* w : {"cerr", "fprintf", "child-err"})
      CHECK_THAT(err, Contains(fmt::format("{}-{}\n", w, tag)));
    CHECK(out.size() == fmt::format("cout-{0}\nprintf-{0}\nwrite-{0}\nchild-{0}\n", tag).size());
    CHECK_THAT(out, !Contains("err"));
    // The metadata says the same, and the next task on the engine starts from nothing.
    auto md = r.metadata().at(0);
    CHECK(md.stdout == out);
    CHECK(md.stderr == err);
    auto q = c[e].apply_async(quiet, 1);
    REQUIRE(q.get(kBound) == 1);
    CHECK(q.stdout().at(0).empty());
    CHECK(q.stderr().at(0).empty());
  }
}

}  // namespace

TEST_CASE("every writer of a task's stdout and stderr is captured, nothing leaks", "[capture]") {
  for (bool isolate : {false, true}) {
    DYNAMIC_SECTION("isolate " << isolate) {
      int rc = mpiply::run(1, argv, capture(isolate), [](mpiply::Client& c) {
        check_every_writer(c);
      });
      CHECK(rc == 0);
    }
  }
}

TEST_CASE("capture is off by default: no output, no usage", "[capture]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto r = c.load_balanced_view().apply_async(print_value, 5);
    REQUIRE(r.get(kBound) == 5);
    CHECK(r.stdout().at(0).empty());
    CHECK_FALSE(r.metadata().at(0).usage.has_value());
    // display_outputs has nothing to show: it says how to turn capture on, on its stderr.
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    REQUIRE(out);
    REQUIRE(err);
    r.display_outputs("type", out, err);
    CHECK(read_all(out).empty());
    std::string hint = read_all(err);
    CHECK_THAT(hint, Catch::Contains("capture is off"));
    CHECK_THAT(hint, Catch::Contains("MPIPLY_CAPTURE=1"));
    CHECK_THAT(hint, Catch::Contains("RunOptions::capture_output = true"));
    std::fclose(out);
    std::fclose(err);
  });
  CHECK(rc == 0);
}

TEST_CASE("a megabyte of output passes; past the cap it is cut with a marker", "[capture]") {
  int rc = mpiply::run(1, argv, capture(), [](mpiply::Client& c) {
    for (int e : c.ids()) {
      auto r = c[e].apply_async(burst, kMiB);
      REQUIRE(r.get(kBound) == kMiB);
      std::string out = r.stdout().at(0);
      CHECK(out.size() == std::size_t(kMiB));  // exactly the default cap: nothing cut
      CHECK(out.find_first_not_of("xy") == std::string::npos);
    }
  });
  CHECK(rc == 0);

  for (bool isolate : {false, true}) {
    mpiply::RunOptions o = capture(isolate);
    o.output_cap = 1000;
    rc = mpiply::run(1, argv, o, [](mpiply::Client& c) {
      for (int e : c.ids()) {
        auto r = c[e].apply_async(burst, kMiB);
        REQUIRE(r.get(kBound) == kMiB);
        std::string out = r.stdout().at(0);
        CHECK(out.substr(0, 1000) == std::string(1000, 'x'));
        CHECK(out.substr(1000) == fmt::format("\n[mpiply: {} more bytes of stdout were dropped: "
                                              "the cap is 1000 bytes (MPIPLY_OUTPUT_CAP)]\n",
                                              kMiB - 1000));
        // The cut output does not spill into the next task.
        auto q = c[e].apply_async(quiet, 2);
        REQUIRE(q.get(kBound) == 2);
        CHECK(q.stdout().at(0).empty());
      }
    });
    CHECK(rc == 0);
  }
}

TEST_CASE("a failing task keeps its output", "[capture]") {
  for (bool isolate : {false, true}) {
    int rc = mpiply::run(1, argv, capture(isolate), [](mpiply::Client& c) {
      for (int e : c.ids()) {
        auto r = c[e].apply_async(print_then_fail, e);
        CHECK_THROWS_AS(r.get(kBound), mpiply::RemoteError);
        CHECK(r.stdout().at(0) == fmt::format("about to fail {}\n", e));
        CHECK(r.stderr().at(0) == fmt::format("failing now {}\n", e));
        CHECK_THAT(r.metadata().at(0).error, Contains("task failed on purpose"));
      }
    });
    CHECK(rc == 0);
  }
}

TEST_CASE("a map gives one output per task, each its own, on threaded engines too",
          "[capture]") {
  for (int threads : {1, 2}) {
    int rc = mpiply::run(1, argv, capture(false, threads), [](mpiply::Client& c) {
      auto xs = mpiply_test::iota_vec(40);
      auto r = c.load_balanced_view().map_async(print_value, xs, {.chunksize = 1});
      REQUIRE(r.get(kBound) == xs);
      auto outs = r.stdout();
      REQUIRE(outs.size() == xs.size());
      for (std::size_t i = 0; i < outs.size(); ++i)
        CHECK(outs[i] == fmt::format("value {}\n", xs[i]));
    });
    CHECK(rc == 0);
  }
}

TEST_CASE("display_outputs prints ipyparallel's blocks by type and by engine", "[capture]") {
  int rc = mpiply::run(1, argv, capture(), [](mpiply::Client& c) {
    auto r = c.direct_view().apply_async(whoami);
    auto ids = r.get(kBound);
    std::vector<int> engines;
    for (const auto& m : r.metadata()) engines.push_back(m.engine_id);
    REQUIRE(engines.size() == ids.size());

    std::string by_type, by_engine;
    for (int e : engines) by_type += fmt::format("[stdout:{0}] out-{0}\n", e);
    for (int e : engines) by_type += fmt::format("[stderr:{0}] err-{0}\n", e);
    std::vector<int> sorted = engines;
    std::sort(sorted.begin(), sorted.end());
    for (int e : sorted) by_engine += fmt::format("[stdout:{0}] out-{0}\n[stderr:{0}] err-{0}\n", e);

    for (auto [groupby, want] : {std::pair{"type", by_type}, std::pair{"order", by_type},
                                 std::pair{"engine", by_engine}}) {
      std::FILE* f = std::tmpfile();
      REQUIRE(f);
      r.display_outputs(groupby, f, f);
      CHECK(read_all(f) == want);
      std::fclose(f);
    }
    CHECK_THROWS_AS(r.display_outputs("time"), mpiply::UsageError);

    // Several lines start on the line after the prefix.
    int e = c.ids().front();
    auto t = c[e].apply_async(two_lines);
    REQUIRE(t.get(kBound) == 0);
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    t.display_outputs("type", f, f);
    CHECK(read_all(f) == "a\nb\n");  // a single result: the text alone
    std::fclose(f);
  });
  CHECK(rc == 0);
}

TEST_CASE("a task's CPU time and peak memory are in its metadata", "[capture]") {
  for (bool isolate : {false, true}) {
    int rc = mpiply::run(1, argv, capture(isolate), [](mpiply::Client& c) {
      for (int e : c.ids()) {
        auto r = c[e].apply_async(busy);
        REQUIRE(r.get(kBound) == 1);
        auto md = r.metadata().at(0);
        REQUIRE(md.usage.has_value());
        // The task spun 20 ms of its thread's CPU, and the reading it starts from is no later
        // than its start. Linux splits that time into user and system by ticks and keeps each
        // part from going down, so the whole of a short task's time may land in either part.
        CHECK(md.usage->user + md.usage->system >= 0.0199);
        CHECK(md.usage->user >= 0.0);
        CHECK(md.usage->system >= 0.0);
        CHECK(md.usage->max_rss > 0);
      }
    });
    CHECK(rc == 0);
  }
}

// Engines tell a task that made no system call (so wrote nothing) from one that did without a
// system call of their own (syscall_watch.hpp), resting after a task that made one: whatever the
// pattern, each task gets exactly its own output.
TEST_CASE("tasks with and without system calls each get exactly their own output", "[capture]") {
  for (int threads : {1, 2}) {
    for (bool isolate : {false, true}) {
      int rc = mpiply::run(1, argv, capture(isolate, threads), [](mpiply::Client& c) {
        auto items = mpiply_test::iota_vec(300);
        auto amr = c.load_balanced_view().map_async(syscall_mix, items, {.chunksize = 1});
        REQUIRE(amr.get(kBound) == items);
        std::vector<std::string> out = amr.stdout();
        REQUIRE(out.size() == items.size());
        int wrong = 0;
        for (int i : items)
          if (out[static_cast<std::size_t>(i)] != (i % 3 == 0 ? fmt::format("w{}\n", i) : ""))
            ++wrong;
        CHECK(wrong == 0);
        for (const std::string& e : amr.stderr()) CHECK(e.empty());
      });
      CHECK(rc == 0);
    }
  }
}

// A silent task costs the engine no clock reading or system call of its own (executor.cpp): its
// usage comes from its start and end stamps between getrusage readings. Every task of a map still
// has its usage, on single-threaded engines (which capture without the process-wide lock) and
// threaded ones, and its stamps are in order.
TEST_CASE("every task of a map of silent tasks has its usage", "[capture]") {
  for (int threads : {1, 2}) {
    int rc = mpiply::run(1, argv, capture(false, threads), [](mpiply::Client& c) {
      auto items = mpiply_test::iota_vec(3000);
      auto amr = c.load_balanced_view().map_async(quiet, items, {.chunksize = 1});
      REQUIRE(amr.get(kBound) == items);
      auto md = amr.metadata();
      REQUIRE(md.size() == items.size());
      int without = 0, odd = 0;
      for (const auto& m : md) {
        if (!m.usage) {
          ++without;
          continue;
        }
        if (m.usage->user < 0 || m.usage->system < 0 || m.usage->max_rss <= 0 ||
            !m.started || !m.completed || *m.completed < *m.started || !m.stdout.empty() || !m.stderr.empty())
          ++odd;
      }
      CHECK(without == 0);
      CHECK(odd == 0);
    });
    CHECK(rc == 0);
  }
}
