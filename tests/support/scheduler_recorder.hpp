#pragma once
// Rank 0's scheduler on its own, for the unit tests (test_scheduler_unit, test_scheduler_resources):
// a recording sink that stands in for ClientCore, and a clock the test sets.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "scheduling/scheduler.hpp"

namespace sched_unit {

using mpiply::ErrorKind;
using mpiply::MsgId;
using mpiply::Scheme;
using mpiply::TaskFlags;
using mpiply::TaskStatus;
using namespace mpiply::detail;

constexpr std::int64_t kSecond = 1'000'000'000;

// Stands in for ClientCore: keeps each task's status and each engine's load, tells the
// scheduler every load change and every task that finished, and records what it was asked.
class Recorder : public SchedulerSink {
 public:
  Recorder(Scheme s, std::size_t engines, unsigned hwm) : sched(*this, s), load(engines, 0) {
    sched.reset_engines(engines, hwm);
  }

  void place(const std::shared_ptr<TaskSource>&, MsgId id, std::uint32_t,
             const Placement& where) override {
    REQUIRE(where.request != nullptr);
    REQUIRE(where.engines.size() == where.request->engines);  // a team of k: k members
    if (where.engines.size() > 1) teams.emplace_back(id, std::vector<int>(where.engines.begin(),
                                                                          where.engines.end()));
    for (std::size_t i = 0; i < where.engines.size(); ++i) {
      int e = where.engines[i];
      MsgId m = id + i;  // member i of a team is the team's i-th task
      REQUIRE(sched.placer().engines().has_room(e));  // never over hwm, never out of service
      if (where.engines.size() > 1) REQUIRE(load[static_cast<std::size_t>(e)] == 0);  // idle
      placed.emplace_back(m, e);
      requests.push_back(*where.request);
      grants[m] = where.grant;
      status[m] = {TaskStatus::sent, e};
      sched.set_load(e, ++load[static_cast<std::size_t>(e)]);
    }
  }
  void fail(MsgId id, ErrorKind kind, const std::string& why) override {
    REQUIRE(status[id].status == TaskStatus::queued);
    failed[id] = {kind, why};
    status[id] = {kind == ErrorKind::aborted ? TaskStatus::aborted : TaskStatus::error,
                  status[id].engine};
    sched.on_finished(id, status[id]);
  }
  TaskOutcome outcome(MsgId id) const override {
    ++outcome_calls;
    auto it = status.find(id);
    return it == status.end() ? TaskOutcome{} : it->second;
  }

  // A batch of n tasks from the next msg ids, with these flags.
  MsgId submit(std::uint32_t n, const TaskFlags& flags, std::vector<int> view = {},
               ResourceRequest req = {}) {
    MsgId first = next;
    next += n;
    for (MsgId id = first; id < next; ++id) status[id] = {};
    sched.admit({.first = first, .ntasks = n, .engines = view, .flags = flags,
                 .resources = std::move(req)},
                now);
    sched.dispatch(now);
    return first;
  }
  // Task id (sent) finished on its engine, ok or raised; a raised task may be re-queued.
  void finish(MsgId id, bool ok, const std::string& error = "RuntimeError: boom") {
    TaskOutcome& o = status[id];
    REQUIRE(o.status == TaskStatus::sent);
    int e = o.engine;
    sched.set_load(e, --load[static_cast<std::size_t>(e)]);
    if (!ok && sched.tasks().retrying() && sched.retry(id, e, error)) {
      o = {};
      retried.push_back(id);
    } else {
      o = {ok ? TaskStatus::ok : TaskStatus::error, e};
      sched.on_finished(id, o);
    }
    sched.dispatch(now);
  }
  int engine_of(MsgId id) { return status[id].engine; }
  std::vector<int> engines_tried(MsgId id) {
    mpiply::TaskMetadata m;
    m.engine_id = status[id].engine;
    sched.tasks().fill_metadata(id, m);
    return m.engines_tried;
  }

  Scheduler sched;
  std::vector<unsigned> load;
  std::map<MsgId, TaskOutcome> status;
  std::vector<std::pair<MsgId, int>> placed;
  std::vector<std::pair<MsgId, std::vector<int>>> teams;  // first msg id, members in rank order
  std::vector<ResourceRequest> requests;
  std::map<MsgId, Grant> grants;  // what each placement was given
  std::map<MsgId, std::pair<ErrorKind, std::string>> failed;
  std::vector<MsgId> retried;
  MsgId next = 1;
  mutable std::size_t outcome_calls = 0;  // how often the scheduler asked: its work per call
  std::int64_t now = 100 * kSecond;
};

}  // namespace sched_unit
