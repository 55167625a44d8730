// Rank 0's dispatch (dispatcher.hpp): submissions queued, queued tasks sent to the least-loaded
// engine with room, to their own engine (direct), or where the scheduler placed them, and the
// scheduler's other answers (a task failed, where one stands) carried out.
#include "client/dispatcher.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/scheduling.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/db_recorder.hpp"
#include "client/result_handler.hpp"
#include "client/task_aborts.hpp"
#include "runtime/drain.hpp"
#include "support/clock.hpp"
#include "wire/bundle.hpp"

namespace mpiply::detail {

Dispatcher::Dispatcher(const EngineRoster& roster, TaskTable& table, Scheduler& sched,
                       EngineLinks& links, TaskQueues& queues, ResultHandler& results,
                       DbRecorder& db, TaskAborts& aborts)
    : roster_(roster), table_(table), sched_(sched), links_(links), queues_(queues),
      results_(results), db_(db), aborts_(aborts) {}

void Dispatcher::enqueue_locked(const std::shared_ptr<TaskSource>& src) {
  if (src->targets.empty()) return queues_.push_plain(src);
  for (std::uint32_t t = 0; t < src->ntasks; ++t) {
    int e = src->targets[t];
    EngineSlot& s = links_.slot(e);
    s.direct.emplace_back(src, t);
    queues_.list_direct(s, e);
  }
}

void Dispatcher::place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
                       const Placement& where) {
  (void)id;  // send_task_locked finds it from the source
  if (!src->team) return send_task_locked(where.engines.front(), src, task, where.grant);
  // Member i of the team is task + i (scheduling/team_placer.hpp), sent to where.engines[i].
  std::span<const int> team(where.engines.data(), where.engines.size());
  for (std::uint32_t i = 0; i < team.size(); ++i)
    send_task_locked(team[i], src, task + i, where.grant, team);
}

void Dispatcher::fail(MsgId id, ErrorKind kind, const std::string& why) {
  results_.fail_queued_locked(id, kind, why);
}

TaskOutcome Dispatcher::outcome(MsgId id) const {
  const TaskRecord& r = table_.record(id);
  return {r.status, r.engine};
}

// Only engines listed since the last pass are looked at: those given direct tasks, and those
// with direct tasks that just returned a result (room again).
void Dispatcher::dispatch_direct_locked() {
  std::vector<int> engines;
  engines.swap(queues_.direct_ready());
  for (int e : engines) {
    EngineSlot& s = links_.slots()[static_cast<std::size_t>(e)];
    while (!s.direct.empty() && s.count < sched_.placer().engines().window(e)) {
      auto [src, t] = std::move(s.direct.front());
      s.direct.pop_front();
      send_task_locked(e, src, t);
    }
    s.direct_listed = false;  // full or empty: a result lists it again if it has tasks left
  }
  if (queues_.direct_ready().empty()) {
    engines.clear();
    queues_.direct_ready().swap(engines);  // keep the capacity
  }
}

int Dispatcher::least_loaded_of_locked(const std::vector<int>& candidates) const {
  int best = -1;
  unsigned best_count = UINT_MAX;
  const EngineStates& st = sched_.placer().engines();
  for (int e : candidates) {
    unsigned c = links_.slots()[static_cast<std::size_t>(e)].count;
    if (c < st.window(e) && c < best_count) {
      best = e;
      best_count = c;
    }
  }
  return best;
}

// A source whose engines are all full is passed over, not waited on: a later source with other
// candidates still gets its turn (no head-of-line blocking).
void Dispatcher::dispatch_subsets_locked() {
  TaskQueues::Queue& subsets = queues_.lb_subset();
  for (auto it = subsets.begin(); it != subsets.end();) {
    std::shared_ptr<TaskSource> src = *it;
    int e;
    auto pick = [&] {
      return sched_.picker().plain_fast() ? least_loaded_of_locked(src->candidates)
                                 : sched_.picker().pick_plain(src->candidates);
    };
    while (src->next < src->ntasks && (e = pick()) >= 0)
      send_task_locked(e, src, src->next++);
    it = src->next == src->ntasks ? subsets.erase(it) : std::next(it);
  }
}

void Dispatcher::dispatch_locked() {
  if (queues_.queued() == 0) return;
  // Small tasks for one engine in this pass leave in one message (wire/bundle.hpp).
  EngineLinks::Batch batch(links_);
  if (drain_requested()) return aborts_.drain_locked();  // drain hook: no queued task starts
  if (!queues_.lb_subset().empty()) dispatch_subsets_locked();
  if (!queues_.direct_ready().empty()) dispatch_direct_locked();
  if (sched_.busy()) sched_.dispatch(steady_ns());
  bool fast = sched_.picker().plain_fast();
  TaskQueues::Queue& lb = queues_.lb();
  while (!lb.empty()) {
    // drain hook: inline, between tasks
    if (roster_.inline_mode() && drain_requested()) return aborts_.drain_locked();
    int e = fast ? sched_.picker().next_plain() : sched_.picker().pick_plain({});
    if (e < 0) break;
    // The queue's own reference serves the send; it is moved out only with the source's last
    // task (one reference count taken and given back per task is a measurable part of it).
    std::shared_ptr<TaskSource>& front = lb.front();
    std::uint32_t t = front->next++;
    if (front->next != front->ntasks) {
      send_task_locked(e, front, t);
      continue;
    }
    std::shared_ptr<TaskSource> src = std::move(front);
    lb.pop_front();
    send_task_locked(e, src, t);
  }
}

void Dispatcher::send_task_locked(int e, const std::shared_ptr<TaskSource>& src, std::uint32_t t,
                                  Grant grant, std::span<const int> team) {
  EngineSlot& s = links_.slot(e);
  InFlight& f = s.ring[(s.head + s.count) % s.ring.size()];
  MsgId id = src->first_msg + t;
  TaskRecord& rec = table_.record(id);
  if (rec.status == TaskStatus::aborted) return;  // aborted while queued (task_aborts.cpp)
  queues_.left_queue();
  std::vector<Segment> segs;
  std::span<const char> msg;
  try {
    msg = src->encode(t, f.scratch, segs);
  } catch (const std::exception& ex) {
    rec.engine = e;
    results_.fail_items_locked(rec, id, ErrorKind::encode,
                      fmt::format("could not encode the task's arguments: {}", ex.what()));
    return;
  }
  if (msg.size() > max_message_bytes()) {
    rec.engine = e;
    results_.fail_items_locked(rec, id, ErrorKind::message_too_large,
                      fmt::format("the task's message is {} bytes, over the {}-byte limit of one "
                                  "MPI message; push large arrays to the engines once "
                                  "(DirectView::push) and pass a Reference instead",
                                  msg.size(), max_message_bytes()));
    return;
  }
  ResumeKey key;
  if (db_.on() && db_.reuse_locked(src, rec, id, msg, key)) return;  // an earlier run finished it
  {
    // What the scheduler gave it (zero for a task without claims), for task_resources() on the
    // engine. Written on every send: a one-task source's buffer is sent again on a retry.
    auto* m = const_cast<char*>(msg.data());
    std::memcpy(m + offsetof(TaskHeader, cores), &grant.cores, sizeof grant.cores);
    std::memcpy(m + offsetof(TaskHeader, gpu_mask), &grant.gpu_mask, sizeof grant.gpu_mask);
  }
  if (!team.empty()) msg = with_team(msg, team, t % team.size(), f.team_msg);
  // A plain call of a submission whose last task ran briefly: its result may wait on the engine
  // for the others of its bundle (src/engine/result_outbox.hpp).
  bool short_call = src->last_run_ns >= 0 && src->last_run_ns <= kHoldResultsNs;
  if (short_call) {  // the header is read only for a submission that runs briefly
    TaskHeader h;
    std::memcpy(&h, msg.data(), sizeof h);
    short_call = h.kind == Kind::call && h.run == 0;
  }
  ++s.count;
  sched_.set_load(e, s.count);
  queues_.sent();
  f.msg = id;
  f.key = key;
  f.src = src;
  rec.engine = e;
  rec.status = TaskStatus::sent;
  links_.transmit_locked(e, f, msg, segs, short_call, sched_.placer().engines().window(e));
}

}  // namespace mpiply::detail
