// Pipelined isolation (docs/isolation.md): an engine hands every isolated task it holds to its
// worker process at once, through a ring of shared-memory slots. What users rely on: a crash
// fails only the task that was running, and the tasks queued behind it run (on a fresh worker);
// a time limit hits only its own task and counts from when that task started, not from when it
// was queued; megabyte arguments and results pass through several slots at once; results come
// back in order, also when isolated and ordinary tasks alternate on one engine; a task that
// changes the worker's namespace is not seen by the tasks queued behind it; an abort still
// reaches the tasks queued in the ring. With one rank the
// inline engine runs one task at a time, and every case holds all the same.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

// A write to a page the process may not touch: a real segfault (see test_isolation.cpp).
void segfault() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
}

long triple_or_die(long x) {
  if (x % 97 == 13) segfault();
  return 3 * x;
}
long crash_now() {
  segfault();
  return -1;
}
long worker_pid() { return static_cast<long>(getpid()); }
long run_then(double seconds, long value) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return value;
}
std::vector<double> scaled(std::vector<double> v, double k) {
  for (double& x : v) x *= k;
  return v;
}
long set_marker(long v) {
  mpiply::this_engine().set("pipeline_marker", v);
  return v;
}
bool has_marker() { return mpiply::this_engine().contains("pipeline_marker"); }
long held(std::string gate, long x) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return x;
}
// Leaves a file behind: the test sees that the task ran, whichever process ran it.
long touch(std::string path) {
  std::ofstream(path) << "ran\n";
  return 1;
}

}  // namespace

MPIPLY_REGISTER(triple_or_die);
MPIPLY_REGISTER(crash_now);
MPIPLY_REGISTER(worker_pid);
MPIPLY_REGISTER(run_then);
MPIPLY_REGISTER(scaled);
MPIPLY_REGISTER(set_marker);
MPIPLY_REGISTER(has_marker);
MPIPLY_REGISTER(held);
MPIPLY_REGISTER(touch);

namespace {

constexpr mpiply::Seconds kBound{120};
char arg0[] = "test_isolation_pipeline";
char* argv[] = {arg0, nullptr};

// Deep queues on every engine, so that many isolated tasks sit in the ring at once.
mpiply::RunOptions deep(bool isolate_all = false) {
  mpiply::RunOptions o;
  o.hwm = 16;
  if (isolate_all) o.isolate = true;
  return o;
}
mpiply::TaskFlags isolated() {
  mpiply::TaskFlags f;
  f.isolate = true;
  return f;
}
mpiply::TaskFlags limited(double seconds) {
  mpiply::TaskFlags f;
  f.time_limit = mpiply::Seconds(seconds);
  return f;
}

}  // namespace

TEST_CASE("pipeline: crashing items of a long map fail alone, every other item is right",
          "[isolation][pipeline]") {
  int rc = mpiply::run(1, argv, deep(true), [](mpiply::Client& c) {
    std::vector<long> xs(3000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
    auto amr = c.load_balanced_view().map_async(triple_or_die, xs, {.chunksize = 1});
    auto values = amr.values_or_empty(kBound);
    REQUIRE(values.size() == xs.size());
    std::set<std::size_t> crashed;
    try {
      amr.get(kBound);
      FAIL("the map should have raised");
    } catch (const mpiply::CompositeError& ce) {
      for (const auto& it : ce.errors()) {
        crashed.insert(it.index);
        CHECK(it.error.kind() == mpiply::ErrorKind::crashed);
        CHECK_THAT(it.error.what(), Catch::Contains("SIGSEGV"));
      }
    }
    std::set<std::size_t> want;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      bool dies = xs[i] % 97 == 13;
      if (dies) want.insert(i);
      INFO("item " << i);
      if (dies)
        CHECK_FALSE(values[i].has_value());
      else
        CHECK(values[i] == 3 * xs[i]);
    }
    CHECK(crashed == want);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: the tasks queued behind a crash run on a fresh worker",
          "[isolation][pipeline]") {
  int rc = mpiply::run(1, argv, deep(), [](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      auto view = c[e].with_flags(isolated());
      // Sent back to back: with hwm 16 all eleven are on the engine at once.
      std::vector<mpiply::AsyncResult<long>> before, after;
      for (int i = 0; i < 5; ++i) before.push_back(view.apply_async(worker_pid));
      auto crash = view.apply_async(crash_now);
      for (int i = 0; i < 5; ++i) after.push_back(view.apply_async(worker_pid));
      std::set<long> pids_before, pids_after;
      for (auto& r : before) pids_before.insert(r.get(kBound));
      try {
        crash.get(kBound);
        FAIL("crash_now returned");
      } catch (const mpiply::TaskCrashed& ex) {
        CHECK_THAT(ex.what(), Catch::Contains("SIGSEGV"));
        CHECK_THAT(ex.what(), Catch::Contains(fmt::format("msg id {}]", crash.msg_ids().at(0))));
      }
      for (auto& r : after) pids_after.insert(r.get(kBound));
      CHECK(pids_before.size() == 1);
      CHECK(pids_after.size() == 1);
      CHECK(*pids_before.begin() != *pids_after.begin());
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: a time limit hits only its task and counts from its start",
          "[isolation][pipeline]") {
  int rc = mpiply::run(1, argv, deep(), [](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      auto iso = c[e].with_flags(isolated());
      auto a = iso.apply_async(run_then, 0.0, 1L);
      auto b = c[e].with_flags(limited(30)).apply_async(run_then, 0.01, 2L);
      auto slow = c[e].with_flags(limited(1.5)).apply_async(run_then, 60.0, 3L);
      // Queued behind `slow` for about 1.5 s, longer than its own limit of 1 s: it must not time
      // out, since it runs only 10 ms (the rest of the second is for a loaded machine).
      auto behind = c[e].with_flags(limited(1)).apply_async(run_then, 0.01, 4L);
      auto d = iso.apply_async(run_then, 0.0, 5L);
      CHECK(a.get(kBound) == 1);
      CHECK(b.get(kBound) == 2);
      try {
        slow.get(kBound);
        FAIL("the slow task returned");
      } catch (const mpiply::TaskTimeout& ex) {
        CHECK_THAT(ex.what(), Catch::Contains("time limit of 1.5 s"));
        CHECK_THAT(ex.what(), Catch::Contains(fmt::format("msg id {}]", slow.msg_ids().at(0))));
      }
      CHECK(behind.get(kBound) == 4);
      CHECK(d.get(kBound) == 5);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: megabyte arguments and results through several slots at once",
          "[isolation][pipeline]") {
  int rc = mpiply::run(1, argv, deep(true), [](mpiply::Client& c) {
    std::vector<double> v((std::size_t(1) << 20) / sizeof(double));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i);
    // Twelve 1 MiB tasks, small ones between them.
    std::vector<std::vector<double>> args;
    for (int k = 0; k < 12; ++k) args.push_back(k % 3 == 1 ? std::vector<double>{double(k)} : v);
    std::vector<double> ks(args.size());
    for (std::size_t k = 0; k < ks.size(); ++k) ks[k] = double(k) + 0.5;
    auto got = c.load_balanced_view().map_async(scaled, args, ks, {.chunksize = 1}).get(kBound);
    REQUIRE(got.size() == args.size());
    for (std::size_t k = 0; k < args.size(); ++k) {
      INFO("task " << k);
      REQUIRE(got[k].size() == args[k].size());
      CHECK(got[k].front() == args[k].front() * ks[k]);
      CHECK(got[k].back() == args[k].back() * ks[k]);
      CHECK(got[k] == scaled(args[k], ks[k]));
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: results come back in order, isolated and not mixed on one engine",
          "[isolation][pipeline]") {
  int rc = mpiply::run(1, argv, deep(), [](mpiply::Client& c) {
    std::vector<long> xs(2000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i) + 1;
    auto lv = c.load_balanced_view().with_flags(isolated());
    for (long chunk : {1L, 7L}) {
      INFO("chunksize " << chunk);
      auto got = lv.map_async(run_then, std::vector<double>(xs.size(), 0.0), xs,
                              {.chunksize = chunk})
                     .get(kBound);
      CHECK(got == xs);
    }
    for (int e : c.ids()) {
      INFO("engine " << e);
      std::vector<mpiply::AsyncResult<long>> rs;
      for (long i = 0; i < 40; ++i) {
        auto view = (i % 3 == 0) ? c[e] : c[e].with_flags(isolated());
        rs.push_back(view.apply_async(run_then, 0.0, i));
      }
      for (long i = 0; i < 40; ++i) CHECK(rs[static_cast<std::size_t>(i)].get(kBound) == i);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: a task queued behind one that set a value does not see it",
          "[isolation][pipeline][namespace]") {
  int rc = mpiply::run(1, argv, deep(), [](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      auto view = c[e].with_flags(isolated());
      auto first = view.apply_async(has_marker);
      auto setter = view.apply_async(set_marker, 7L);
      std::vector<mpiply::AsyncResult<bool>> behind;
      for (int i = 0; i < 6; ++i) behind.push_back(view.apply_async(has_marker));
      CHECK_FALSE(first.get(kBound));
      CHECK(setter.get(kBound) == 7);
      for (auto& r : behind) CHECK_FALSE(r.get(kBound));
      CHECK_FALSE(c[e].apply_async(has_marker).get(kBound));
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pipeline: an abort reaches isolated tasks queued in the ring; the running one finishes",
          "[isolation][pipeline][abort]") {
  mpiply::RunOptions o;
  o.hwm = 4;
  o.engine_threads = 1;
  int rc = mpiply::run(1, argv, o, [](mpiply::Client& c) {
    if (c.inline_mode()) return 0;  // one rank runs each task as it is submitted
    auto view = c[0].with_flags(isolated());
    hub_test::Gate gate;
    // The blocker holds the worker until its time limit (the gate never opens): the engine
    // wakes many times meanwhile, and takes back the aborted tasks queued behind it. Their
    // answers wait for the blocker's (results leave in task order), so only the limit ends it.
    auto blocker = c[0].with_flags(limited(6)).apply_async(held, gate.path(), 7L);
    std::vector<std::string> marks;
    std::vector<mpiply::AsyncResult<long>> behind;
    for (int i = 0; i < 3; ++i) {
      marks.push_back(gate.path() + ".ran." + std::to_string(i));
      std::filesystem::remove(marks.back());
      behind.push_back(view.apply_async(touch, marks.back()));
    }
    REQUIRE(gate.wait_started(0));
    for (auto& r : behind) REQUIRE(r.sent());  // on the engine: in its worker's ring
    // One abort message for the three, sent at once: the engine must see it before the
    // blocker's limit ends. On a loaded machine the last of three separate aborts once ran.
    CHECK(c.abort(behind) == 3);
    CHECK_THROWS_AS(blocker.get(kBound), mpiply::TaskTimeout);
    for (std::size_t i = 0; i < behind.size(); ++i) {
      INFO("task " << i);
      CHECK_THROWS_AS(behind[i].get(kBound), mpiply::TaskAborted);
      CHECK_FALSE(std::filesystem::exists(marks[i]));
      std::filesystem::remove(marks[i]);
    }
    CHECK(view.apply_async(touch, marks[0]).get(kBound) == 1);
    std::filesystem::remove(marks[0]);
    return 0;
  });
  REQUIRE(rc == 0);
}
