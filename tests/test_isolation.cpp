// Isolation (docs/isolation.md): tasks that run in their engine's worker process. A task that
// segfaults, aborts, calls exit or is killed fails with TaskCrashed naming the signal or status,
// and the next task on that engine works; a crashing map item fails only its chunk; a task past
// its time limit fails with TaskTimeout; References and pushed values reach isolated tasks; a
// megabyte travels both ways through the shared memory. With one rank the inline engine forks
// from rank 0, so every case holds at every rank count.
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::run_client;

namespace {

// A write to a page the process may not touch: a real segfault, which no sanitizer check stops
// first (a null pointer write would be caught by UBSan and end the worker with exit(1)).
void segfault() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
}

// How each test task dies: a segfault, abort, exit(3), SIGKILL of itself.
long die(int how) {
  switch (how) {
    case 0: segfault(); break;
    case 1: std::abort();
    case 2: std::exit(3);
    case 3: kill(getpid(), SIGKILL); break;
  }
  return -1;  // not reached
}
long my_pid() { return static_cast<long>(getpid()); }
long pid_of(long) { return static_cast<long>(getpid()); }
long square(long x) { return x * x; }
// Dies on one item of a map.
long square_or_die(long x) {
  if (x == 13) die(0);
  return x * x;
}
// Runs for `seconds` (well past any limit the tests set), then returns.
long run_for(double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}
long add_to(long base, long x) { return base + x; }
// Sets a value in the namespace of the process it runs in.
long set_value(long v) {
  mpiply::this_engine().set("set_by_task", v);
  return v;
}
bool has_value(std::string name) { return mpiply::this_engine().contains(name); }
std::vector<double> reversed(std::vector<double> v) {
  return std::vector<double>(v.rbegin(), v.rend());
}
// Announces that it runs by creating `path`, then waits up to 60 s for a signal to end it.
long wait_for_signal(std::string path) {
  if (FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
  run_for(60);
  return 0;
}

}  // namespace

MPIPLY_REGISTER(die);
MPIPLY_REGISTER(my_pid);
MPIPLY_REGISTER(pid_of);
MPIPLY_REGISTER(square);
MPIPLY_REGISTER(square_or_die);
MPIPLY_REGISTER(run_for);
MPIPLY_REGISTER(add_to);
MPIPLY_REGISTER(set_value);
MPIPLY_REGISTER(has_value);
MPIPLY_REGISTER(reversed);
MPIPLY_REGISTER(wait_for_signal);

namespace {

constexpr mpiply::Seconds kBound{120};
char arg0[] = "test_isolation";
char* argv[] = {arg0, nullptr};

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
mpiply::RunOptions isolate_all(int threads = 1) {
  mpiply::RunOptions o;
  o.isolate = true;
  o.engine_threads = threads;
  return o;
}

// The error a task's get() raised, as T (a TaskCrashed, TaskTimeout...); fails the test if it
// raised something else or nothing.
template <class E, class R>
std::string error_of(R&& r) {
  try {
    r.get(kBound);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected " << typeid(E).name() << ", got " << e.what());
  }
  FAIL("expected " << typeid(E).name() << ", the task succeeded");
  return {};
}

}  // namespace

TEST_CASE("a crashing isolated task fails with TaskCrashed and its engine goes on",
          "[isolation]") {
  int rc = run_client([](mpiply::Client& c) {
    struct Case {
      int how;
      const char* text;
    };
    const Case cases[] = {
        {0, "died of signal 11 \\(SIGSEGV"},
        {1, "died of signal 6 \\(SIGABRT"},
        {2, "exited with status 3 \\(the task called exit\\)"},
        {3, "died of signal 9 \\(SIGKILL.*out-of-memory killer"},
    };
    for (int e : c.ids()) {
      auto view = c[e].with_flags(isolated());
      for (const Case& k : cases) {
        INFO("engine " << e << ", way " << k.how);
        auto r = view.apply_async(die, k.how);
        std::string what = error_of<mpiply::TaskCrashed>(r);
        CHECK_THAT(what, Catch::Matches(std::string("mpiply::TaskCrashed: the task's worker "
                                                    "process \\(pid [0-9]+\\) ") +
                                            k.text + ".*",
                                        Catch::CaseSensitive::Yes));
        CHECK_THAT(what, Catch::Contains(fmt::format("[engine {} on ", e)));
        CHECK_THAT(what, Catch::Contains(fmt::format("function die, msg id {}]",
                                                     r.msg_ids().at(0))));
        // It is a RemoteError as well, and the next task on the engine works, isolated or not.
        CHECK_THROWS_AS(r.get(kBound), mpiply::RemoteError);
        CHECK(view.apply_async(square, 7L).get(kBound) == 49);
        CHECK(c[e].apply_async(square, 8L).get(kBound) == 64);
      }
      // Isolated tasks run in another process than the engine; one worker serves many tasks.
      long engine_pid = c[e].apply_async(my_pid).get(kBound);
      long w1 = view.apply_async(my_pid).get(kBound);
      long w2 = view.apply_async(my_pid).get(kBound);
      CHECK(w1 != engine_pid);
      CHECK(w1 == w2);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a map item that crashes fails its chunk only", "[isolation]") {
  int rc = mpiply::run(1, argv, isolate_all(), [](mpiply::Client& c) {
    std::vector<long> xs(40);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
    for (long chunk : {1L, 4L}) {
      INFO("chunksize " << chunk);
      auto amr = c.load_balanced_view().map_async(square_or_die, xs, {.chunksize = chunk});
      REQUIRE_THROWS_AS(amr.get(kBound), mpiply::CompositeError);
      try {
        amr.get(kBound);
      } catch (const mpiply::CompositeError& ce) {
        // Item 13 lies in chunk [12, 16) with chunksize 4.
        std::vector<std::size_t> failed;
        for (const auto& it : ce.errors()) {
          failed.push_back(it.index);
          CHECK(it.error.kind() == mpiply::ErrorKind::crashed);
          CHECK_THAT(it.error.what(), Catch::Contains("SIGSEGV"));
        }
        std::sort(failed.begin(), failed.end());
        if (chunk == 1)
          CHECK(failed == std::vector<std::size_t>{13});
        else
          CHECK(failed == std::vector<std::size_t>{12, 13, 14, 15});
      }
      auto values = amr.values_or_empty(kBound);
      for (std::size_t i = 0; i < xs.size(); ++i) {
        bool in_failed_chunk = chunk == 1 ? i == 13 : (i >= 12 && i < 16);
        INFO("item " << i);
        if (in_failed_chunk)
          CHECK_FALSE(values[i].has_value());
        else
          CHECK(values[i] == xs[i] * xs[i]);
      }
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task past its time limit fails with TaskTimeout and the engine goes on",
          "[isolation]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      // A time limit alone makes the task isolated.
      auto r = c[e].with_flags(limited(0.3)).apply_async(run_for, 60.0);
      std::string what = error_of<mpiply::TaskTimeout>(r);
      CHECK_THAT(what, Catch::Contains("the task ran past its time limit of 0.3 s"));
      CHECK_THAT(what, Catch::Contains("killed its worker process"));
      CHECK_THAT(what, Catch::Contains(fmt::format("[engine {} on ", e)));
      // Within its limit a task returns its value.
      CHECK(c[e].with_flags(limited(30)).apply_async(run_for, 0.01).get(kBound) == 1);
      CHECK(c[e].apply_async(square, 9L).get(kBound) == 81);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("MPIPLY_TASK_TIMEOUT limits every task; a task's own flag overrides it",
          "[isolation][settings]") {
  mpiply_test::RestoreEnv env("MPIPLY_TASK_TIMEOUT");
  setenv("MPIPLY_TASK_TIMEOUT", "0.25", 1);
  int rc = run_client([](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto r = lb.apply_async(run_for, 60.0);
    std::string what = error_of<mpiply::TaskTimeout>(r);
    CHECK_THAT(what, Catch::Contains("time limit of 0.25 s"));
    CHECK(lb.with_flags(limited(30)).apply_async(run_for, 0.5).get(kBound) == 1);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("isolated tasks read References and pushed values; what they set is dropped",
          "[isolation][namespace]") {
  int rc = run_client([](mpiply::Client& c) {
    auto dv = c.direct_view();
    auto iso = dv.with_flags(isolated());
    for (long base : {10L, 1000L}) {
      dv.push({{"base", base}});  // the worker forked before this push is replaced
      INFO("base " << base);
      CHECK(iso.apply_sync(add_to, mpiply::Reference<long>("base"), 5L) ==
            std::vector<long>(dv.targets().size(), base + 5));
      auto amr = c.load_balanced_view().with_flags(isolated()).map_async(
          add_to, mpiply::Reference<long>("base"), std::vector<long>{1, 2, 3, 4, 5, 6, 7});
      CHECK(amr.get(kBound) == std::vector<long>{base + 1, base + 2, base + 3, base + 4,
                                                 base + 5, base + 6, base + 7});
    }
    // A value an isolated task sets lives and dies with its worker: neither the engine nor the
    // next isolated task sees it.
    CHECK(iso.apply_sync(set_value, 5L) == std::vector<long>(dv.targets().size(), 5));
    for (bool b : dv.apply_sync(has_value, std::string("set_by_task"))) CHECK_FALSE(b);
    for (bool b : iso.apply_sync(has_value, std::string("set_by_task"))) CHECK_FALSE(b);
    // One a task in the engine sets is seen by the isolated tasks after it.
    CHECK(dv.apply_sync(set_value, 6L) == std::vector<long>(dv.targets().size(), 6));
    for (bool b : iso.apply_sync(has_value, std::string("set_by_task"))) CHECK(b);
    // A clear reaches isolated tasks too.
    dv.clear();
    for (bool b : iso.apply_sync(has_value, std::string("base"))) CHECK_FALSE(b);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a megabyte argument and result travel through the shared memory", "[isolation]") {
  int rc = run_client([](mpiply::Client& c) {
    for (std::size_t mib : {1, 9}) {
      std::vector<double> v(mib * (std::size_t(1) << 20) / sizeof(double));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i) * 0.5;
      std::vector<double> want(v.rbegin(), v.rend());
      for (int e : c.ids()) {
        INFO(mib << " MiB, engine " << e);
        CHECK(c[e].with_flags(isolated()).apply_async(reversed, v).get(kBound) == want);
      }
      // And after the region grew, small messages still work.
      CHECK(c[0].with_flags(isolated()).apply_async(square, 3L).get(kBound) == 9);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("send_signal interrupts a running isolated task", "[isolation][signal]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      std::string path = fmt::format("/tmp/mpiply-test-isolation-{}-{}", getpid(), e);
      std::remove(path.c_str());
      // With one rank the task runs inside apply_async (inline), so the signal comes from a
      // thread that waits until the task has announced that it started.
      bool seen = false;
      std::thread signaller([&] {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        struct stat st;
        while (std::chrono::steady_clock::now() < until) {
          if (stat(path.c_str(), &st) == 0) {
            seen = true;
            break;
          }
          std::this_thread::yield();
        }
        c.send_signal(SIGINT, {e});
      });
      auto r = c[e].with_flags(isolated()).apply_async(wait_for_signal, path);
      std::string what;
      try {
        r.get(kBound);
      } catch (const mpiply::TaskCrashed& ex) {
        what = ex.what();
      }
      signaller.join();
      CHECK(seen);
      CHECK_THAT(what, Catch::Contains("died of signal 2 (SIGINT"));
      std::remove(path.c_str());
      CHECK(c[e].with_flags(isolated()).apply_async(square, 4L).get(kBound) == 16);
    }
    CHECK_THROWS_AS(c.send_signal(0), mpiply::UsageError);
    CHECK_THROWS_AS(c.send_signal(SIGINT, {static_cast<int>(c.size())}), mpiply::UsageError);
    c.send_signal(SIGINT);  // nothing runs: no effect
    CHECK(c.direct_view().with_flags(isolated()).apply_sync(square, 5L) ==
          std::vector<long>(c.size(), 25));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("isolation on threaded engines: one worker process per thread", "[isolation][threads]") {
  int rc = mpiply::run(1, argv, isolate_all(3), [](mpiply::Client& c) {
    std::vector<long> xs(200);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i);
    auto amr = c.load_balanced_view().map_async(square_or_die, xs, {.chunksize = 1});
    REQUIRE_THROWS_AS(amr.get(kBound), mpiply::CompositeError);
    auto values = amr.values_or_empty(kBound);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      INFO("item " << i);
      if (i == 13)
        CHECK_FALSE(values[i].has_value());
      else
        CHECK(values[i] == xs[i] * xs[i]);
    }
    // Tasks ran in worker processes, at most one per engine thread, never in an engine.
    auto pids = c.load_balanced_view().map_async(pid_of, xs, {.chunksize = 1});
    std::set<long> workers, engines;
    auto got = pids.get(kBound);
    workers.insert(got.begin(), got.end());
    for (const auto& m : pids.metadata()) engines.insert(m.pid);
    CHECK(workers.size() <= engines.size() * (c.inline_mode() ? 1 : 3));
    for (long w : workers) CHECK(engines.count(w) == 0);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("isolation: bad RunOptions::time_limit stops every rank", "[isolation][settings]") {
  for (double bad : {-1.0, 5e6}) {
    mpiply::RunOptions o;
    o.time_limit = mpiply::Seconds(bad);
    bool ran = false;
    int rc = mpiply::run(1, argv, o, [&](mpiply::Client&) { ran = true; });
    CHECK(rc == mpiply::kExitStartupFailed);
    CHECK_FALSE(ran);
  }
}

TEST_CASE("isolation on rank 0's own engine slot (client_runs_tasks)", "[isolation]") {
  mpiply::RunOptions o;
  o.client_runs_tasks = true;
  int rc = mpiply::run(1, argv, o, [](mpiply::Client& c) {
    int last = c.ids().back();  // rank 0's slot when there are engine ranks
    auto view = c[last].with_flags(isolated());
    std::string what = error_of<mpiply::TaskCrashed>(view.apply_async(die, 0));
    CHECK_THAT(what, Catch::Contains("SIGSEGV"));
    CHECK(view.apply_async(square, 6L).get(kBound) == 36);
    CHECK(view.apply_async(my_pid).get(kBound) != static_cast<long>(getpid()));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("MPIPLY_ISOLATE=1 isolates every task; TaskFlags::isolate = false opts out",
          "[isolation][settings]") {
  mpiply_test::RestoreEnv env("MPIPLY_ISOLATE");
  setenv("MPIPLY_ISOLATE", "1", 1);
  int rc = run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      auto r = c[e].apply_async(my_pid);
      long worker_pid = r.get(kBound);
      long engine_pid = r.metadata().at(0).pid;
      CHECK(engine_pid > 0);
      CHECK(worker_pid != engine_pid);
      mpiply::TaskFlags off;
      off.isolate = false;
      CHECK(c[e].with_flags(off).apply_async(my_pid).get(kBound) == engine_pid);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}
