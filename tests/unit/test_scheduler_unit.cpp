// Rank 0's scheduler on its own (src/scheduling/scheduler.hpp): told about engines, flagged batches and
// results by the test, with a recording sink in place of ClientCore, and a clock the test
// sets. Placement by scheme, hwm, subsets of engines, after / follow, timeouts (waiting for
// dependencies and for an engine), retries that never go back to an engine that failed the
// task, shut-down engines, and the resource-request and placement types. No messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "scheduler_recorder.hpp"

using mpiply::Dependency;
using mpiply::ErrorKind;
using mpiply::MsgId;
using mpiply::Scheme;
using mpiply::TaskFlags;
using mpiply::TaskStatus;
using namespace mpiply::detail;

namespace {

using namespace sched_unit;

const Scheme kAll[] = {Scheme::leastload, Scheme::lru, Scheme::twobin, Scheme::weighted,
                       Scheme::plainrandom};

TaskFlags with_retries(int r) {
  TaskFlags f;
  f.retries = r;
  return f;
}

}  // namespace

TEST_CASE("every scheme fills each engine to hwm and keeps the rest", "[scheduler_unit]") {
  for (Scheme s : kAll) {
    DYNAMIC_SECTION("scheme " << mpiply::to_string(s)) {
      Recorder r(s, 5, 3);
      TaskFlags f = with_retries(0);
      MsgId first = r.submit(5 * 3 + 4, f);
      REQUIRE(r.placed.size() == 15);
      for (unsigned l : r.load) CHECK(l == 3);
      CHECK(r.sched.busy());
      // One result frees one slot: exactly one waiting task goes, to that engine.
      int e = r.engine_of(first + 7);
      r.finish(first + 7, true);
      REQUIRE(r.placed.size() == 16);
      CHECK(r.placed.back() == std::pair<MsgId, int>{first + 15, e});
      CHECK(r.failed.empty());
    }
  }
}

TEST_CASE("leastload takes the least loaded engine; lru the least recently given one",
          "[scheduler_unit]") {
  SECTION("leastload") {
    Recorder r(Scheme::leastload, 3, 4);
    TaskFlags f = with_retries(0);
    MsgId a = r.submit(3, f);  // one on each engine
    std::set<int> first_round{r.engine_of(a), r.engine_of(a + 1), r.engine_of(a + 2)};
    CHECK(first_round.size() == 3);
    r.finish(a + 1, true);  // its engine is now the least loaded
    MsgId b = r.submit(1, f);
    CHECK(r.engine_of(b) == r.engine_of(a + 1));
  }
  SECTION("lru") {
    Recorder r(Scheme::lru, 3, 4);
    TaskFlags f = with_retries(0);
    MsgId a = r.submit(3, f);
    // Each engine got one, in some order; the next goes to the one given a task longest ago,
    // whatever the loads.
    r.finish(a + 2, true);
    MsgId b = r.submit(1, f);
    CHECK(r.engine_of(b) == r.engine_of(a));
  }
}

TEST_CASE("a batch over a subset of engines runs only there", "[scheduler_unit]") {
  for (Scheme s : kAll) {
    DYNAMIC_SECTION("scheme " << mpiply::to_string(s)) {
      Recorder r(s, 6, 2);
      TaskFlags f;
      f.targets = std::vector<int>{4, 1, 5};
      std::vector<int> view{1, 2, 4};  // the view's engines; targets narrows them to 1 and 4
      MsgId first = r.submit(9, f, view);
      CHECK(r.placed.size() == 4);
      for (auto [id, e] : r.placed) CHECK((e == 1 || e == 4));
      for (int i = 0; i < 4; ++i) r.finish(first + static_cast<MsgId>(i), true);
      for (auto [id, e] : r.placed) CHECK((e == 1 || e == 4));
      CHECK(r.placed.size() == 8);
    }
  }
}

TEST_CASE("after waits for its dependencies and fails when they cannot be met",
          "[scheduler_unit]") {
  Recorder r(Scheme::leastload, 2, 2);
  TaskFlags none = with_retries(0);
  MsgId a = r.submit(2, none);  // two running tasks to depend on
  TaskFlags after;
  after.after = Dependency(a, a + 1);
  MsgId b = r.submit(1, after);
  CHECK(r.status[b].status == TaskStatus::queued);
  r.finish(a, true);
  CHECK(r.status[b].status == TaskStatus::queued);  // needs both
  r.finish(a + 1, true);
  CHECK(r.status[b].status == TaskStatus::sent);

  // Depending on a task that failed: impossible at once, and what depends on that fails too.
  MsgId c = r.submit(1, none);
  r.finish(c, false);
  TaskFlags on_c;
  on_c.after = Dependency(c);
  MsgId d = r.submit(1, on_c);
  REQUIRE(r.failed.count(d));
  CHECK(r.failed[d].first == ErrorKind::impossible_dependency);
  CHECK_THAT(r.failed[d].second, Catch::Contains("can never be met"));
  TaskFlags on_d;
  on_d.after = Dependency(d);
  MsgId e = r.submit(1, on_d);
  CHECK(r.failed.count(e));

  // on_failure: met by the failure.
  TaskFlags on_fail;
  on_fail.after = Dependency(c).on_failure();
  MsgId g = r.submit(1, on_fail);
  CHECK(r.status[g].status == TaskStatus::sent);
  // any(): one of them is enough, even if the other fails.
  MsgId h = r.submit(2, none);
  TaskFlags any;
  any.after = Dependency(h, h + 1).any();
  MsgId k = r.submit(1, any);
  r.finish(h, false);
  CHECK(r.status[k].status == TaskStatus::queued);
  r.finish(h + 1, true);
  CHECK(r.status[k].status == TaskStatus::sent);
}

TEST_CASE("follow runs where its dependency ran, or fails when they ran apart",
          "[scheduler_unit]") {
  Recorder r(Scheme::leastload, 3, 4);
  TaskFlags none = with_retries(0);
  MsgId a = r.submit(3, none);  // one on each engine
  r.finish(a + 1, true);
  TaskFlags follow;
  follow.follow = Dependency(a + 1);
  MsgId b = r.submit(4, follow);
  for (MsgId id = b; id < b + 4; ++id) CHECK(r.engine_of(id) == r.engine_of(a + 1));
  r.finish(a, true);
  r.finish(a + 2, true);
  TaskFlags both;
  both.follow = Dependency(a, a + 2);
  MsgId c = r.submit(1, both);
  REQUIRE(r.failed.count(c));
  CHECK(r.failed[c].first == ErrorKind::impossible_dependency);
  CHECK_THAT(r.failed[c].second, Catch::Contains("ran on different engines"));
}

TEST_CASE("a timeout bounds the wait for dependencies and for an engine", "[scheduler_unit]") {
  Recorder r(Scheme::leastload, 2, 1);
  TaskFlags none = with_retries(0);
  MsgId a = r.submit(2, none);  // both engines full
  TaskFlags waits;
  waits.after = Dependency(a);
  waits.timeout = mpiply::Seconds(2);
  MsgId b = r.submit(1, waits);
  TaskFlags room;
  room.timeout = mpiply::Seconds(3);
  MsgId c = r.submit(1, room);  // nothing to wait for but an engine with room
  r.now += kSecond;
  r.sched.dispatch(r.now);
  CHECK(r.failed.empty());
  r.now += kSecond + 1;
  r.sched.dispatch(r.now);
  REQUIRE(r.failed.count(b));
  CHECK(r.failed[b].first == ErrorKind::dependency_timeout);
  CHECK_THAT(r.failed[b].second, Catch::Contains("dependencies"));
  CHECK_FALSE(r.failed.count(c));
  r.now += kSecond;
  r.sched.dispatch(r.now);
  REQUIRE(r.failed.count(c));
  CHECK(r.failed[c].first == ErrorKind::dependency_timeout);
  CHECK_THAT(r.failed[c].second, Catch::Contains("had room for it"));
  // The engines free up: nothing timed out runs after all.
  r.finish(a, true);
  r.finish(a + 1, true);
  CHECK(r.placed.size() == 2);
  // A task placed before its timeout is not touched by it.
  MsgId d = r.submit(1, room);
  CHECK(r.status[d].status == TaskStatus::sent);
  r.now += 10 * kSecond;
  r.sched.dispatch(r.now);
  CHECK_FALSE(r.failed.count(d));
  r.finish(d, true);
  CHECK(r.status[d].status == TaskStatus::ok);
}

TEST_CASE("a retry never goes back to an engine that failed the task", "[scheduler_unit]") {
  SECTION("retries = engines - 1: each engine once, then the task's own error") {
    Recorder r(Scheme::leastload, 3, 2);
    TaskFlags f = with_retries(2);
    MsgId a = r.submit(1, f);
    std::set<int> seen;
    for (int attempt = 0; attempt < 3; ++attempt) {
      REQUIRE(r.status[a].status == TaskStatus::sent);
      CHECK(seen.insert(r.engine_of(a)).second);  // an engine it has not tried
      r.finish(a, false);
    }
    CHECK(r.status[a].status == TaskStatus::error);  // its result, stored by the owner
    CHECK(r.retried.size() == 2);
    CHECK(r.failed.empty());
    CHECK(r.engines_tried(a).size() == 3);
  }
  SECTION("more retries than engines: unplaceable once every engine failed it") {
    Recorder r(Scheme::lru, 3, 2);
    TaskFlags f = with_retries(5);
    MsgId a = r.submit(1, f);
    for (int attempt = 0; attempt < 3; ++attempt) r.finish(a, false, "RuntimeError: bad node");
    REQUIRE(r.failed.count(a));
    CHECK(r.failed[a].first == ErrorKind::impossible_dependency);
    const std::string& why = r.failed[a].second;
    std::vector<int> tried = r.engines_tried(a);
    REQUIRE(tried.size() == 3);
    CHECK(std::set<int>(tried.begin(), tried.end()).size() == 3);
    CHECK_THAT(why, Catch::Contains(fmt::format("raised on engines {}, {}, {}", tried[0],
                                                tried[1], tried[2])));
    CHECK_THAT(why, Catch::Contains("RuntimeError: bad node"));
  }
  SECTION("the untried engine is busy: the retry waits for it, bounded by the timeout") {
    Recorder r(Scheme::leastload, 2, 1);
    TaskFlags f = with_retries(3);
    f.timeout = mpiply::Seconds(5);
    MsgId a = r.submit(1, f);
    TaskFlags none = with_retries(0);
    MsgId busy = r.submit(1, none);  // the other engine is now full
    int bad = r.engine_of(a);
    REQUIRE(r.engine_of(busy) != bad);
    r.finish(a, false);  // re-queued; its only other engine has no room
    CHECK(r.status[a].status == TaskStatus::queued);
    // The engine that failed it is idle, and unused.
    CHECK(r.sched.placer().engines().has_room(bad));
    r.now += 6 * kSecond;
    r.sched.dispatch(r.now);
    REQUIRE(r.failed.count(a));
    CHECK(r.failed[a].first == ErrorKind::dependency_timeout);
    CHECK_THAT(r.failed[a].second, Catch::Contains("run again"));
  }
  SECTION("the same flags without a timeout: placed as soon as the engine frees up") {
    Recorder r(Scheme::leastload, 2, 1);
    TaskFlags f = with_retries(3);
    MsgId a = r.submit(1, f);
    TaskFlags none = with_retries(0);
    MsgId busy = r.submit(1, none);
    int bad = r.engine_of(a);
    r.finish(a, false);
    r.finish(busy, true);
    CHECK(r.status[a].status == TaskStatus::sent);
    CHECK(r.engine_of(a) != bad);
  }
}

TEST_CASE("shut-down engines get no task; tasks with no engine left fail", "[scheduler_unit]") {
  for (Scheme s : kAll) {
    DYNAMIC_SECTION("scheme " << mpiply::to_string(s)) {
      Recorder r(s, 4, 2);
      CHECK(r.sched.picker().plain_fast() == (s == Scheme::leastload));
      TaskFlags block = with_retries(0);
      TaskFlags only1;
      only1.targets = std::vector<int>{1};
      r.submit(8, block);  // every engine full
      MsgId waiting = r.submit(1, only1);
      CHECK(r.status[waiting].status == TaskStatus::queued);
      r.sched.shut_down({1}, r.now);
      CHECK_FALSE(r.sched.picker().plain_fast());
      CHECK_FALSE(r.sched.placer().engines().in_service(1));
      REQUIRE(r.failed.count(waiting));  // at once, though no engine has room
      CHECK(r.failed[waiting].first == ErrorKind::impossible_dependency);
      CHECK_THAT(r.failed[waiting].second, Catch::Contains("shut down"));
      for (MsgId id = 1; id <= 8; ++id)
        if (r.status[id].status == TaskStatus::sent) r.finish(id, true);
      std::size_t before = r.placed.size();
      MsgId more = r.submit(30, block);
      for (std::size_t i = before; i < r.placed.size(); ++i) CHECK(r.placed[i].second != 1);
      for (MsgId id = more; id < more + 30; ++id)
        if (r.status[id].status == TaskStatus::sent) r.finish(id, true);
      for (std::size_t i = before; i < r.placed.size(); ++i) CHECK(r.placed[i].second != 1);
      for (MsgId id = more; id < more + 30; ++id) CHECK(r.status[id].status == TaskStatus::ok);
      for (int k = 0; k < 20; ++k) CHECK(r.sched.picker().pick_plain({}) != 1);
      CHECK(r.sched.placer().engines().any_in_service({0, 1}));
      CHECK_FALSE(r.sched.placer().engines().any_in_service({1}));
      r.sched.shut_down({0, 2, 3}, r.now);
      CHECK_FALSE(r.sched.placer().engines().any_in_service({}));
      MsgId none_left = r.submit(2, block);
      CHECK(r.failed.count(none_left));
      CHECK(r.failed.count(none_left + 1));
    }
  }
}

TEST_CASE("abort_all fails every task held or waiting; metadata lists attempts",
          "[scheduler_unit]") {
  Recorder r(Scheme::leastload, 1, 1);
  TaskFlags f = with_retries(0);
  MsgId a = r.submit(2, f);  // one sent, one waiting for room
  TaskFlags dep;
  dep.after = Dependency(a);
  MsgId b = r.submit(1, dep);  // held on its dependency
  r.sched.abort_all("client_main returned");
  CHECK(r.failed.at(a + 1).first == ErrorKind::aborted);
  CHECK(r.failed.at(b).first == ErrorKind::aborted);
  CHECK_FALSE(r.failed.count(a));  // sent: it finishes on its engine
  CHECK_FALSE(r.sched.busy());
  r.finish(a, true);
  CHECK(r.engines_tried(a) == std::vector<int>{0});
  r.sched.forget(a);
  CHECK(r.engines_tried(a) == std::vector<int>{0});  // from the record alone now
}

TEST_CASE("resource requests and placements carry what issue-sized teams need",
          "[scheduler_unit]") {
  ResourceRequest plain;
  CHECK(plain.is_default());
  CHECK(plain.engines == 1);
  ResourceRequest big{.engines = 3, .cores = 4, .gpus = 1, .memory_bytes = 8ull << 30,
                      .named = {{"license", 2}}};
  CHECK_FALSE(big.is_default());
  ResourceRequest copy = big;
  CHECK(copy == big);
  copy.named["license"] = 1;
  CHECK_FALSE(copy == big);
  Placement team{{4, 7, 9}, &big};
  CHECK(team.engines.size() == 3);
  CHECK(team.engines[1] == 7);
  CHECK(team.request->named.at("license") == 2);

  // The default request goes in with a batch and comes back with each placement, one engine.
  Recorder r(Scheme::leastload, 2, 2);
  TaskFlags f = with_retries(0);
  r.submit(3, f);
  REQUIRE(r.requests.size() == 3);
  for (const auto& q : r.requests) CHECK(q == ResourceRequest{});
  // A team batch is whole teams (k tasks each): one task for a team of 3 is refused, never
  // placed as if it were one engine.
  CHECK_THROWS_WITH(r.submit(1, f, {}, big), Catch::Contains("teams of 3 engines in 1 tasks"));
}

TEST_CASE("a queued task aborted and purged leaves no record behind when its run moves on",
          "[scheduler_unit]") {
  // The client aborts the middle task of a batch while it waits for room, then purges it
  // (purge_results), and the run it sits in is dispatched later: the scheduler must not make
  // it a record again (one with no job, which metadata and the finishing path would follow).
  for (bool timeout : {false, true}) {
    DYNAMIC_SECTION((timeout ? "with" : "without") << " a timeout") {
      Recorder r(Scheme::leastload, 1, 1);
      TaskFlags f = with_retries(0);
      if (timeout) f.timeout = mpiply::Seconds(60);
      MsgId a = r.submit(3, f);  // a sent; a + 1 and a + 2 wait for room
      REQUIRE(r.status[a].status == TaskStatus::sent);
      REQUIRE(r.status[a + 1].status == TaskStatus::queued);
      r.status[a + 1] = {TaskStatus::aborted, -1};  // Client::abort of a queued task
      r.sched.on_finished(a + 1, r.status[a + 1]);
      r.sched.forget(a + 1);
      CHECK(r.sched.tasks().find(a + 1) == nullptr);
      r.finish(a, true);  // room: the run passes a + 1 and places a + 2
      CHECK(r.status[a + 2].status == TaskStatus::sent);
      CHECK(r.sched.tasks().find(a + 1) == nullptr);
      CHECK(r.engines_tried(a + 1).empty());
      r.finish(a + 2, true);
      CHECK(r.engines_tried(a + 2) == std::vector<int>{0});
      CHECK(r.failed.empty());
    }
  }
}
