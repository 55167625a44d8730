// Isolation (docs/isolation.md): tasks that run in their engine's worker process. A task that
// segfaults, aborts, calls exit or is killed fails with TaskCrashed naming the signal or status,
// and the next task on that engine works; a crashing map item fails only its chunk; a task past
// its time limit fails with TaskTimeout; send_signal reaches a running task. With one rank the
// inline engine forks from rank 0, so every case holds at every rank count. What isolated tasks
// see and the ways to turn isolation on: test_isolation_modes.cpp.
#include "isolation_support.hpp"

using mpiply_test::run_client;
using namespace isolation_test;

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

// Runs wait_for_signal isolated on engine e and, from another thread once the task has announced
// that it started (its file exists), calls `send`; returns the TaskCrashed text ("" if none).
// With one rank the task runs inside apply_async (inline), hence the thread.
template <class Send>
std::string crash_by_signal(mpiply::Client& c, int e, const char* name, Send send) {
  std::string path = fmt::format("/tmp/mpiply-test-{}-{}-{}", name, getpid(), e);
  std::remove(path.c_str());
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
    send();
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
  std::remove(path.c_str());
  return what;
}

TEST_CASE("send_signal interrupts a running isolated task", "[isolation][signal]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      INFO("engine " << e);
      std::string what = crash_by_signal(c, e, "isolation", [&] { c.send_signal(SIGINT, {e}); });
      CHECK_THAT(what, Catch::Contains("died of signal 2 (SIGINT"));
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

TEST_CASE("send_signal takes a signal's name, with or without SIG", "[isolation][signal]") {
  int rc = run_client([](mpiply::Client& c) {
    int e = c.ids().back();
    std::string what = crash_by_signal(c, e, "signal-name", [&] { c.send_signal("term", {e}); });
    CHECK_THAT(what, Catch::Contains("died of signal 15 (SIGTERM"));
    try {
      c.send_signal("SIGNOPE");
      FAIL("expected UsageError");
    } catch (const mpiply::UsageError& ex) {
      CHECK_THAT(ex.what(), Catch::Contains("'SIGNOPE' is not a signal name"));
      CHECK_THAT(ex.what(), Catch::Contains("SIGINT"));
    }
    c.send_signal("SIGINT");  // nothing runs: no effect
    c.send_signal("USR1", c.ids());
    CHECK(c[e].with_flags(isolated()).apply_async(square, 4L).get(kBound) == 16);
    return 0;
  });
  REQUIRE(rc == 0);
}

