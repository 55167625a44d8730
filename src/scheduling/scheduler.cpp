// Rank 0's scheduler for flagged load-balanced tasks: dependencies, placement, retries, timeouts.
// See scheduler.hpp. Every function runs with ClientCore's lock held.
#include "scheduling/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
#include "support/clock.hpp"
#include "scheduling/scheduler_ids.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

namespace {

std::atomic<std::uint64_t> g_runs{0};

}  // namespace

Scheduler::Scheduler(ClientCore& core)
    : core_(core), run_(++g_runs), placement_(settings().scheme) {
  refresh_fast();
}

Scheduler::~Scheduler() = default;

void Scheduler::refresh_fast() noexcept {
  fast_ = placement_.scheme() == Scheme::leastload && retired_.empty();
}

bool Scheduler::any_in_service(const std::vector<int>& engines) const {
  if (retired_.empty()) return !engines.empty() || core_.num_engines() > 0;
  if (engines.empty()) return std::find(retired_.begin(), retired_.end(), 0) != retired_.end();
  return std::any_of(engines.begin(), engines.end(), [&](int e) { return !retired(e); });
}

int Scheduler::pick_plain_locked(const std::vector<int>& candidates) {
  if (candidates.empty()) return placement_.pick(core_.index_);
  return placement_.pick_among(core_.index_, candidates, [](int) { return true; });
}

bool Scheduler::maybe_retry_locked(TaskRecord& rec, int engine, MsgId id, const char* items,
                                   std::size_t n) {
  if (core_.shut_down_) return false;
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return false;
  TaskInfo& ti = it->second;
  const std::shared_ptr<Job>& job = ti.job;
  if (job->retries <= 0 || ti.tried.size() > static_cast<std::size_t>(job->retries)) return false;
  bool raised = false;
  Reader r(items, n);
  for (std::uint32_t i = 0; i < rec.nitems && !raised; ++i) {
    raised = static_cast<ItemStatus>(r.u8()) != ItemStatus::ok;
    r.sub(r.u32());
  }
  if (!raised) return false;
  (void)engine;  // already in ti.tried, recorded when the task was sent
  rec.status = TaskStatus::queued;
  rec.engine = -1;
  ++core_.queued_;
  auto t = static_cast<std::uint32_t>(id - job->first);
  ready_.push_back({job, t, t + 1});
  return true;
}

// Places tasks of r while an engine it may use has room; false if some are left.
bool Scheduler::place_locked(Ready& r) {
  Job& job = *r.job;
  EngineIndex& ix = core_.index_;
  while (r.next < r.end) {
    MsgId id = job.first + r.next;
    if (core_.record(id).status != TaskStatus::queued) {  // aborted while it waited
      ++r.next;
      continue;
    }
    TaskInfo& ti = tasks_[id];
    auto tried = [&](int e) { return std::find(ti.tried.begin(), ti.tried.end(), e) != ti.tried.end(); };
    int e;
    if (ti.tried.empty() && job.every) {
      e = placement_.pick(ix);
    } else {
      // A retry goes to an engine it has not tried while one it may use is in service; a task
      // restricted to some engines looks at those only.
      bool avoid = !ti.tried.empty() &&
                   std::any_of(job.allowed.begin(), job.allowed.end(),
                               [&](int c) { return !retired(c) && !tried(c); });
      e = placement_.pick_among(ix, job.allowed, [&](int c) { return !(avoid && tried(c)); });
    }
    if (e < 0) {
      bool possible = std::any_of(job.allowed.begin(), job.allowed.end(),
                                  [&](int c) { return !retired(c); });
      if (possible) return false;
      fail_job_locked(job, r.next, r.end, ErrorKind::impossible_dependency,
                      fmt::format("every engine it may run on ({}) was shut down "
                                  "(Client::shutdown) before it was sent",
                                  fmt::join(job.allowed, ", ")));
      r.next = r.end;
      return true;
    }
    std::uint32_t t = r.next++;
    ti.tried.push_back(e);
    std::shared_ptr<TaskSource> src = job.src;  // the send may finish the job (inline)
    core_.send_task_locked(e, src, t);
  }
  return true;
}

void Scheduler::audit_timeouts_locked() {
  std::int64_t now = steady_ns();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    std::shared_ptr<Job> job = deadlines_.top().second;
    deadlines_.pop();
    if (job->released || job->dead) continue;
    const TaskFlags& f = job->src->flags;
    std::vector<MsgId> ids;
    std::set_union(job->after.ids.begin(), job->after.ids.end(), job->follow.ids.begin(),
                   job->follow.ids.end(), std::back_inserter(ids));
    fail_job_locked(*job, 0, job->ntasks, ErrorKind::dependency_timeout,
                    fmt::format("it waited {:g} s (its timeout flag) for its dependencies on msg "
                                "ids {} and they were not met; it never ran",
                                f.timeout ? f.timeout->count() : 0.0, id_list(ids)));
  }
}

void Scheduler::dispatch_locked() {
  if (!deadlines_.empty()) audit_timeouts_locked();
  if (ready_.empty()) return;
  auto room = [this] { return core_.index_.any_room(); };
  std::deque<Ready> work, rest;
  work.swap(ready_);
  // Entries that cannot go now wait in order behind the others, which still go: a task
  // restricted to busy engines holds back nobody else.
  while (!work.empty()) {
    if (!room()) break;
    Ready r = std::move(work.front());
    work.pop_front();
    if (r.next >= r.end) continue;
    if (!place_locked(r)) rest.push_back(std::move(r));
    if (work.empty()) work.swap(ready_);  // released by tasks that ran inline meanwhile
  }
  for (auto& r : work) rest.push_back(std::move(r));
  for (auto& r : ready_) rest.push_back(std::move(r));
  ready_.swap(rest);
}

void Scheduler::retire_locked(const std::vector<int>& engines) {
  if (retired_.empty()) retired_.assign(core_.slots_.size(), 0);
  for (int e : engines) {
    retired_[static_cast<std::size_t>(e)] = 1;
    core_.index_.retire(e);
  }
  refresh_fast();
  // Plain tasks left without an engine fail now rather than wait for ever.
  auto abort_plain = [this](std::deque<std::shared_ptr<TaskSource>>& q, bool subset) {
    for (auto it = q.begin(); it != q.end();) {
      TaskSource& src = **it;
      if (any_in_service(subset ? src.candidates : std::vector<int>{})) {
        ++it;
        continue;
      }
      for (std::uint32_t t = src.next; t < src.ntasks; ++t) {
        MsgId id = src.first_msg + t;
        --core_.queued_;
        core_.fail_items_locked(core_.record(id), id, ErrorKind::aborted,
                                "every engine it may run on was shut down (Client::shutdown) "
                                "before it was sent");
      }
      it = q.erase(it);
    }
  };
  abort_plain(core_.lb_, false);
  abort_plain(core_.lb_subset_, true);
  dispatch_locked();  // fails flagged entries left without an engine
}

bool Scheduler::refuse_locked(const std::shared_ptr<TaskSource>& src) {
  if (retired_.empty()) return false;
  const char* why = "an engine it was to run on was shut down (Client::shutdown) before it was "
                    "submitted";
  auto fail = [&](std::uint32_t t) {
    MsgId id = src->first_msg + t;
    --core_.queued_;
    core_.fail_items_locked(core_.record(id), id, ErrorKind::aborted, why);
  };
  if (src->targets.empty()) {
    if (any_in_service(src->candidates)) return false;
    for (std::uint32_t t = 0; t < src->ntasks; ++t) fail(t);
    return true;
  }
  if (std::none_of(src->targets.begin(), src->targets.end(), [&](int e) { return retired(e); }))
    return false;
  // All or nothing: the tasks of one DirectView call may be a collective that every target
  // must join.
  for (std::uint32_t t = 0; t < src->ntasks; ++t) fail(t);
  return true;
}

bool Scheduler::abort_locked(MsgId id, const std::string& why) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.job->dead) return false;
  TaskRecord& rec = core_.record(id);
  if (rec.status != TaskStatus::queued) return false;
  --core_.queued_;
  core_.fail_items_locked(rec, id, ErrorKind::aborted, why);
  return true;
}

void Scheduler::abort_all_locked(const std::string& why) {
  std::vector<std::pair<std::shared_ptr<Job>, std::pair<std::uint32_t, std::uint32_t>>> drop;
  for (const auto& job : held_)
    if (!job->released && !job->dead) drop.push_back({job, {0, job->ntasks}});
  for (const auto& r : ready_)
    if (r.next < r.end) drop.push_back({r.job, {r.next, r.end}});
  for (auto& d : drop) d.first->dead = true;
  ready_.clear();
  waiters_.clear();
  held_.clear();
  deadlines_ = {};
  for (auto& [job, range] : drop) fail_job_locked(*job, range.first, range.second,
                                                  ErrorKind::aborted, why);
}

void Scheduler::fill_metadata_locked(MsgId id, TaskMetadata& m) const {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) {
    if (m.engine_id >= 0) {
      m.attempts = 1;
      m.engines_tried = {m.engine_id};
    }
    return;
  }
  const TaskInfo& ti = it->second;
  m.attempts = static_cast<int>(ti.tried.size());
  m.engines_tried = ti.tried;
  m.after = ti.job->after.ids;
  m.follow = ti.job->follow.ids;
}

void Scheduler::forget_locked(MsgId id) {
  auto it = tasks_.find(id);
  if (it != tasks_.end() && finished(core_.record(id).status)) tasks_.erase(it);
}

}  // namespace mpiply::detail
