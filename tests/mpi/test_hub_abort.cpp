// Aborting tasks (ar.abort, rc.abort, view.abort): a task not yet started never runs, whether it
// waits on rank 0 or already sits on an engine behind a running task (hwm > 1); its items fail
// with TaskAborted and status "aborted"; a running task finishes; the rest of a map keeps its
// values. Each engine counts the calls it ran, so "never ran" is checked on the engine itself.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

std::atomic<int> g_runs{0};

int held(std::string gate, int x) {
  hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return x;
}
int counted(int x) {
  ++g_runs;
  return x * 10;
}
int runs() { return g_runs.load(); }
// Map item i: item `stop` waits at the gate.
int step(std::string gate, int i, int stop) {
  if (i == stop) hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  ++g_runs;
  return i * 10;
}

int run_hwm4(std::function<void(mpiply::Client&)> body) {
  mpiply::RunOptions o;
  o.hwm = 4;
  o.engine_threads = 1;  // tasks behind the running one wait, rather than run on other threads
  return mpiply::run(1, mpiply_test::test_argv(), o, [&](mpiply::Client& c) { body(c); });
}

}  // namespace

MPIPLY_REGISTER(held);
MPIPLY_REGISTER(counted);
MPIPLY_REGISTER(runs);
MPIPLY_REGISTER(step);

using Catch::Matchers::Contains;

TEST_CASE("abort: tasks waiting on rank 0 and on the engine never run; the running one finishes",
          "[hub][abort]") {
  int rc = run_hwm4([](mpiply::Client& c) {
    auto e = c[0];
    int before = e.apply(runs);
    if (c.inline_mode()) {
      // One rank runs each task as it is submitted: nothing is left to abort.
      auto ar = e.apply_async(counted, 1);
      CHECK(ar.abort() == 0);
      CHECK(c.abort() == 0);
      CHECK(ar.get() == 10);
      CHECK(e.apply(runs) == before + 1);
      return;
    }
    hub_test::Gate gate;
    auto blocker = e.apply_async(held, gate.path(), 7);
    std::vector<mpiply::AsyncResult<int>> behind;
    for (int i = 0; i < 6; ++i) behind.push_back(e.apply_async(counted, i));
    REQUIRE(gate.wait_started(0));  // running: abort cannot stop it any more
    // hwm 4: three wait on the engine behind the blocker, three on rank 0.
    int unsent = 0;
    for (auto& ar : behind) unsent += ar.sent() ? 0 : 1;
    REQUIRE(unsent == 3);
    std::size_t reached = 0;
    for (auto& ar : behind) reached += ar.abort();
    CHECK(reached == 6);
    for (int i = 3; i < 6; ++i) CHECK(behind[static_cast<std::size_t>(i)].ready());  // at once
    gate.open();
    CHECK(blocker.get() == 7);
    for (auto& ar : behind) {
      CHECK_THROWS_AS(ar.get(), mpiply::TaskAborted);
      auto m = ar.metadata().at(0);
      CHECK(m.status == mpiply::TaskStatus::aborted);
      CHECK(!m.started);
      CHECK_THAT(m.error, Contains("TaskAborted"));
    }
    CHECK(behind[0].metadata().at(0).engine_id == 0);  // it had reached the engine
    CHECK(behind[5].metadata().at(0).engine_id == -1);  // it never left rank 0
    try {
      behind[0].get();
    } catch (const mpiply::TaskAborted& ex) {
      CHECK_THAT(ex.what(), Contains("never ran"));
      CHECK_THAT(ex.what(), Contains("running task finishes"));
    }
    CHECK(e.apply(runs) == before);  // not one of them ran
    CHECK(blocker.metadata().at(0).status == mpiply::TaskStatus::ok);
    // The engine goes on serving.
    CHECK(e.apply(counted, 4) == 40);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("abort a map half-way: finished items keep their values, the rest never run",
          "[hub][abort]") {
  int rc = run_hwm4([](mpiply::Client& c) {
    auto e = c[0];
    const int n = 10, stop = c.inline_mode() ? n : 2;
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    int before = e.apply(runs);
    std::vector<std::string> gates(n, gate.path());
    std::vector<int> stops(n, stop);
    auto ar = e.map_async(step, gates, mpiply_test::iota_vec(n), stops);
    if (c.inline_mode()) {
      CHECK(ar.abort() == 0);
      CHECK(ar.get().size() == static_cast<std::size_t>(n));
      return;
    }
    CHECK(ar.value(1) == 10);  // items 0 and 1 are done; item 2 runs, held at the gate
    REQUIRE(gate.wait_started(0));
    CHECK(ar.abort() == 8);    // 2 running, 3..5 on the engine, 6..9 on rank 0
    gate.open();
    REQUIRE(ar.wait(std::chrono::seconds(60)));
    // The progress lines count the aborted items as not run, not as done.
    auto last_line = [](const std::function<void(std::FILE*)>& write) {
      std::FILE* f = std::tmpfile();
      REQUIRE(f);
      write(f);
      std::rewind(f);
      std::string text, line;
      for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
      std::fclose(f);
      auto end = text.find_last_not_of('\n');
      return text.substr(text.rfind('\n', end) + 1);
    };
    std::string line = last_line([&](std::FILE* f) {
      CHECK(ar.wait_interactive(std::chrono::milliseconds(50), std::nullopt, f));
    });
    CHECK(line.rfind("3/10 items (30.0%), 7 not run  ", 0) == 0);
    CHECK(line.find("ETA 0.0s") != std::string::npos);
    line = last_line([&](std::FILE* f) {
      CHECK(c.wait_interactive(std::chrono::milliseconds(50), std::nullopt, f));
    });
    CHECK(line.find(", 7 not run  ") != std::string::npos);
    CHECK(line.find("(100.0%)") == std::string::npos);
    auto vals = ar.values_or_empty();
    CHECK(vals[0] == 0);
    CHECK(vals[1] == 10);
    CHECK(vals[2] == 20);  // it was running: it finished
    for (int i = 3; i < n; ++i) CHECK(!vals[static_cast<std::size_t>(i)]);
    try {
      ar.get();
      FAIL("get() of a partly aborted map must raise");
    } catch (const mpiply::CompositeError& ce) {
      CHECK(ce.errors().size() == 7);
      for (const auto& item : ce.errors()) CHECK(item.error.kind() == mpiply::ErrorKind::aborted);
    }
    CHECK(e.apply(runs) == before + 3);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("rc.abort() and view.abort() reach every outstanding task; wait ends",
          "[hub][abort]") {
  int rc = run_hwm4([](mpiply::Client& c) {
    hub_test::Gate gate;
    if (c.inline_mode()) gate.open();
    auto lv = c.load_balanced_view();
    std::vector<mpiply::AsyncResult<int>> blockers;
    for (std::size_t i = 0; i < c.size(); ++i) blockers.push_back(c[static_cast<int>(i)].apply_async(held, gate.path(), 1));
    auto ar = lv.map_async(counted, mpiply_test::iota_vec(40));
    auto dv = c.direct_view();
    auto dar = dv.apply_async(counted, 5);
    if (c.inline_mode()) {
      CHECK(c.abort() == 0);
      CHECK(lv.abort() == 0);
      CHECK(ar.get().size() == 40);
      return;
    }
    for (int id : c.ids()) REQUIRE(gate.wait_started(id));
    CHECK(dv.abort() == c.size());  // the view's own tasks
    CHECK(lv.history() == ar.msg_ids());
    // Every task still outstanding: the map's 40 and the running blockers (which finish); the
    // direct tasks waited on rank 0 behind the map and were aborted already.
    CHECK(c.abort() == 40 + c.size());
    gate.open();
    CHECK(c.wait(std::chrono::seconds(60)));
    for (auto& b : blockers) CHECK(b.get() == 1);
    CHECK_THROWS_AS(dar.value(0), mpiply::TaskAborted);
    CHECK_THROWS_AS(ar.get(), mpiply::CompositeError);
    for (auto& m : ar.metadata()) CHECK(m.status == mpiply::TaskStatus::aborted);
    CHECK(c.outstanding().empty());
    // Aborting finished tasks changes nothing.
    CHECK(c.abort(blockers) == 0);
    CHECK(blockers[0].get() == 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("abort of an unknown msg id is a UsageError and aborts nothing", "[hub][abort]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto ar = c.load_balanced_view().apply_async(counted, 2);
    CHECK(ar.get() == 20);
    try {
      c.abort({ar.msg_ids()[0], mpiply::MsgId{999999}});
      FAIL("expected UsageError");
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(e.what(), Contains("999999"));
    }
    CHECK(ar.get() == 20);
  });
  REQUIRE(rc == 0);
}
