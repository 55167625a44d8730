// LoadBalancedView dependencies (after, follow) with ipyparallel's Dependency semantics: a task
// waits for its dependencies without holding anybody else back, runs where `follow` says, and
// fails at once with ImpossibleDependency when its dependencies can no longer be met, or with
// DependencyTimeout when they take longer than its timeout. Bad flags are UsageErrors.
#include <catch2/catch.hpp>

#include <optional>
#include <set>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"
#include "support.hpp"

using namespace sched_test;
using mpiply::Dependency;

namespace {
mpiply::TaskStatus status_of(const mpiply::AsyncResultBase& ar) {
  return ar.metadata().at(0).status;
}
}  // namespace

TEST_CASE("a dependency diamond runs in order; waiting tasks stay on rank 0", "[dependencies]") {
  TempFile gate("diamond");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    if (c.inline_mode()) touch(gate.path);  // tasks run at submission: nothing can wait
    auto lbv = c.load_balanced_view();
    auto a = lbv.apply_async(gate_item, gate.path, 1);
    auto b = lbv.with_flags({.after = a}).apply_async(add1, 10);
    auto d = lbv.with_flags({.after = Dependency(a)}).apply_async(add1, 20);
    auto e = lbv.with_flags({.after = Dependency(b, d)}).apply_async(add1, 30);
    // Plain tasks submitted behind the waiting ones still run (no head-of-line blocking).
    auto free = lbv.map_async(add1, std::vector<int>{1, 2, 3});
    free.wait_for_send(kBound);
    if (!c.inline_mode()) {
      for (auto* w : {&b, &d, &e}) {
        CHECK_FALSE(w->sent());
        CHECK(status_of(*w) == mpiply::TaskStatus::queued);
        CHECK(w->metadata().at(0).attempts == 0);
      }
      touch(gate.path);
    }
    CHECK(free.get(kBound) == std::vector<int>{2, 3, 4});
    CHECK(a.get(kBound) == 1);
    CHECK(b.get(kBound) == 11);
    CHECK(d.get(kBound) == 21);
    CHECK(e.get(kBound) == 31);
    auto me = e.metadata().at(0);
    std::vector<mpiply::MsgId> want{b.msg_ids()[0], d.msg_ids()[0]};
    CHECK(me.after == want);
    CHECK(me.attempts == 1);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a failure propagates through success-only dependencies", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto bad = lbv.apply_async(fail_always, 1);
    auto child = lbv.with_flags({.after = bad}).apply_async(add1, 1);
    auto grandchild = lbv.with_flags({.after = child}).apply_async(add1, 2);
    auto on_fail = lbv.with_flags({.after = Dependency(bad).on_failure()}).apply_async(add1, 3);
    auto on_end = lbv.with_flags({.after = Dependency(bad).on_finish()}).apply_async(add1, 4);
    CHECK_THROWS_AS(bad.get(kBound), mpiply::RemoteError);
    CHECK_THROWS_AS(child.get(kBound), mpiply::ImpossibleDependency);
    CHECK_THROWS_AS(grandchild.get(kBound), mpiply::ImpossibleDependency);
    CHECK(on_fail.get(kBound) == 4);
    CHECK(on_end.get(kBound) == 5);
    // Never ran: no engine, no attempt; the error names the dependency.
    auto m = child.metadata().at(0);
    CHECK(m.status == mpiply::TaskStatus::error);
    CHECK(m.attempts == 0);
    try {
      child.get();
    } catch (const mpiply::ImpossibleDependency& ex) {
      CHECK_THAT(ex.what(), Catch::Contains(std::to_string(bad.msg_ids()[0])));
      CHECK_THAT(ex.what(), Catch::Contains("never ran"));
    }
    // A task that only runs if its dependency failed cannot run after a success.
    auto ok = lbv.apply_async(add1, 0);
    ok.wait();
    auto never = lbv.with_flags({.after = Dependency(ok).on_failure()}).apply_async(add1, 0);
    CHECK(never.ready());  // decided at submission, not after a wait
    CHECK_THROWS_AS(never.get(kBound), mpiply::ImpossibleDependency);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("an impossible dependency fails at once and never hangs", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto bad = lbv.map_async(fail_always, std::vector<int>{1, 2});
    bad.wait(kBound);
    auto late = lbv.with_flags({.after = bad}).map_async(add1, std::vector<int>{1, 2, 3});
    CHECK(late.ready());
    try {
      late.get();
      FAIL("expected a CompositeError");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 3);
      for (const auto& it : ce.errors())
        CHECK(it.error.kind() == mpiply::ErrorKind::impossible_dependency);
    }
    // follow (all) on tasks that ran on two engines: there is no one engine to run on.
    if (c.ids().size() >= 2) {
      auto x = c[0].apply_async(where);
      auto y = c[1].apply_async(where);
      x.wait();
      y.wait();
      auto both = lbv.with_flags({.follow = Dependency(x, y)}).apply_async(where);
      CHECK(both.ready());
      CHECK_THROWS_AS(both.get(), mpiply::ImpossibleDependency);
      auto either = lbv.with_flags({.follow = Dependency(x, y).any()}).apply_async(where);
      int e = either.get(kBound);
      CHECK((e == 0 || e == 1));
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("any is met by one task, all needs every one", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto good = lbv.apply_async(add1, 1);
    auto bad = lbv.apply_async(fail_always, 2);
    auto all = lbv.with_flags({.after = Dependency(good, bad)}).apply_async(add1, 10);
    auto any = lbv.with_flags({.after = Dependency(good, bad).any()}).apply_async(add1, 20);
    // Raw msg ids work as well as the results.
    auto ids = lbv.with_flags({.after = Dependency(good.msg_ids(), bad.msg_ids()).any()})
                   .apply_async(add1, 30);
    CHECK_THROWS_AS(all.get(kBound), mpiply::ImpossibleDependency);
    CHECK(any.get(kBound) == 21);
    CHECK(ids.get(kBound) == 31);
    // any over failures only: met only when one of them failed.
    auto any_fail = lbv.with_flags({.after = Dependency(good, bad).any().on_failure()})
                        .apply_async(add1, 40);
    CHECK(any_fail.get(kBound) == 41);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("follow runs a task on the engine where its dependency ran", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    for (int e : c.ids()) {
      auto there = c[e].apply_async(where);
      REQUIRE(there.get(kBound) == e);
      auto follower = lbv.with_flags({.follow = there}).apply_async(where);
      CHECK(follower.get(kBound) == e);
      // A whole map follows too, every chunk on that engine.
      auto many = lbv.map_async(where_item, std::vector<int>(12, 0),
                                {.chunksize = 2, .flags = {.follow = there}});
      for (int w : many.get(kBound)) CHECK(w == e);
      CHECK(follower.metadata().at(0).follow == there.msg_ids());
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a dependency that does not finish in time fails with DependencyTimeout",
          "[dependencies]") {
  TempFile gate("timeout");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    if (c.inline_mode()) {
      // Every task has finished by the time the next is submitted: a timeout never passes.
      touch(gate.path);
      auto a = lbv.apply_async(gate_item, gate.path, 5);
      auto b = lbv.with_flags({.after = a, .timeout = mpiply::Seconds(0)}).apply_async(add1, 1);
      CHECK(b.get(kBound) == 2);
      return;
    }
    auto held = lbv.apply_async(gate_item, gate.path, 5);
    auto waiter = lbv.with_flags({.after = held, .timeout = mpiply::Seconds(0.2)})
                      .apply_async(add1, 1);
    auto patient = lbv.with_flags({.after = held}).apply_async(add1, 2);
    CHECK_THROWS_AS(waiter.get(kBound), mpiply::DependencyTimeout);
    CHECK_FALSE(held.ready());  // it timed out while its dependency was still running
    CHECK(waiter.metadata().at(0).attempts == 0);
    touch(gate.path);
    CHECK(held.get(kBound) == 5);
    CHECK(patient.get(kBound) == 3);
  });
  REQUIRE(rc == 0);
}

namespace {
std::optional<mpiply::AsyncResult<int>> g_earlier_run;
}

TEST_CASE("bad flags are UsageErrors and submit nothing", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    g_earlier_run = c.load_balanced_view().apply_async(add1, 1);
    g_earlier_run->wait();
  });
  REQUIRE(rc == 0);
  rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto a = lbv.apply_async(add1, 1);
    std::size_t before = c.history().size();
    CHECK_THROWS_AS(lbv.with_flags({.retries = -1}).apply_async(add1, 1), mpiply::UsageError);
    CHECK_THROWS_AS(lbv.with_flags({.timeout = mpiply::Seconds(-1)}).apply_async(add1, 1),
                    mpiply::UsageError);
    CHECK_THROWS_AS(lbv.map_async(add1, std::vector<int>{1}, {.flags = {.retries = -2}}),
                    mpiply::UsageError);
    CHECK_THROWS_AS(lbv.with_flags({.after = Dependency(a.msg_ids()[0] + 1000)})
                        .apply_async(add1, 1),
                    mpiply::UsageError);
    CHECK_THROWS_AS(lbv.with_flags({.follow = *g_earlier_run}).apply_async(add1, 1),
                    mpiply::UsageError);
    CHECK_THROWS_AS(Dependency(a, *g_earlier_run), mpiply::UsageError);
    CHECK_THROWS_AS(lbv.with_flags({.targets = std::vector<int>{99}}).apply_async(add1, 1),
                    mpiply::UsageError);
    try {
      lbv.with_flags({.after = *g_earlier_run}).apply_async(add1, 1);
    } catch (const mpiply::UsageError& ex) {
      CHECK_THAT(ex.what(), Catch::Contains("another client run"));
    }
    CHECK(c.history().size() == before);
    CHECK(a.get(kBound) == 2);  // nothing already submitted is lost
  });
  g_earlier_run.reset();
  REQUIRE(rc == 0);
}

TEST_CASE("set_flags and temp_flags apply to every call of the view", "[dependencies]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto bad = lbv.apply_async(fail_always, 1);
    {
      auto g = lbv.temp_flags({.after = bad});
      CHECK_THROWS_AS(lbv.apply_async(add1, 1).get(kBound), mpiply::ImpossibleDependency);
    }
    CHECK(lbv.apply_async(add1, 1).get(kBound) == 2);  // restored
    lbv.set_flags({.targets = std::vector<int>{c.ids().back()}});
    for (int w : lbv.map(where_item, std::vector<int>(8, 0))) CHECK(w == c.ids().back());
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task waiting for a full engine holds back nobody behind it", "[dependencies]") {
  TempFile gate("hol");
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    if (c.ids().size() < 2) return;  // needs one engine to fill and another to use
    auto lbv = c.load_balanced_view();
    const int k = c.hwm() + 1;
    // Engine 0 takes hwm of these, all held at the gate; the last waits on rank 0 for room.
    auto held = lbv.map_async(gate_item, std::vector<std::string>(static_cast<std::size_t>(k), gate.path),
                              mpiply_test::iota_vec(k),
                              {.flags = {.retries = 1, .targets = std::vector<int>{0}}});
    int queued = 0;
    for (const auto& m : held.metadata()) queued += m.status == mpiply::TaskStatus::queued;
    CHECK(queued == 1);
    // Submitted after it, for another engine: runs now (this would wait for the gate otherwise).
    auto other = lbv.with_flags({.retries = 1, .targets = std::vector<int>{1}}).apply_async(where);
    CHECK(other.get(kBound) == 1);
    CHECK_FALSE(held.ready());
    touch(gate.path);
    CHECK(held.get(kBound) == mpiply_test::iota_vec(k));
    for (const auto& m : held.metadata()) CHECK(m.engine_id == 0);
  });
  REQUIRE(rc == 0);
}
