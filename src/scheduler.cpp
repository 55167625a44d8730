// Rank 0's scheduler for flagged load-balanced tasks: dependencies, placement, retries, timeouts.
// See scheduler.hpp. Every function runs with ClientCore's lock held.
#include "scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/detail/wire.hpp>

#include "client_core.hpp"
#include "clock.hpp"
#include "settings.hpp"

namespace mpiply::detail {

namespace {

std::atomic<std::uint64_t> g_runs{0};

bool finished(TaskStatus s) noexcept {
  return s == TaskStatus::ok || s == TaskStatus::error || s == TaskStatus::aborted;
}

std::vector<MsgId> sorted_ids(std::vector<MsgId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// "msg ids 3, 4 and 7" for messages, shortened when long.
std::string id_list(const std::vector<MsgId>& ids) {
  if (ids.size() <= 8) return fmt::format("{}", fmt::join(ids, ", "));
  return fmt::format("{}, ... ({} tasks)",
                     fmt::join(std::vector<MsgId>(ids.begin(), ids.begin() + 8), ", "), ids.size());
}

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

void Scheduler::admit_locked(std::shared_ptr<TaskSource> src) {
  auto job = std::make_shared<Job>();
  const TaskFlags& f = src->flags;
  job->first = src->first_msg;
  job->ntasks = job->unfinished = src->ntasks;
  job->retries = f.retries.value_or(0);
  if (f.timeout) job->deadline_ns = steady_ns() + static_cast<std::int64_t>(f.timeout->count() * 1e9);
  // The engines it may use: the view's, narrowed by the targets flag (checked non-empty).
  std::vector<int> allowed = src->candidates.empty() ? core_.ids() : src->candidates;
  if (f.targets) {
    std::vector<int> t = *f.targets;
    std::sort(t.begin(), t.end());
    std::vector<int> both;
    std::set_intersection(allowed.begin(), allowed.end(), t.begin(), t.end(),
                          std::back_inserter(both));
    allowed = std::move(both);
  }
  job->allowed = std::move(allowed);
  job->src = std::move(src);
  for (std::uint32_t t = 0; t < job->ntasks; ++t) tasks_[job->first + t].job = job;
  live_ += job->ntasks;
  if (job->retries > 0) with_retries_ += job->ntasks;

  auto setup = [](DepState& d, const std::optional<Dependency>& dep) {
    if (!dep) return;
    d.ids = sorted_ids(dep->msg_ids);
    d.all = dep->all;
    d.success = dep->success;
    d.failure = dep->failure;
  };
  setup(job->after, f.after);
  setup(job->follow, f.follow);
  // Tasks already finished count now; the others will tell when they do (once per id).
  std::vector<MsgId> ids;
  std::set_union(job->after.ids.begin(), job->after.ids.end(), job->follow.ids.begin(),
                 job->follow.ids.end(), std::back_inserter(ids));
  for (MsgId id : ids) {
    const TaskRecord& rec = core_.record(id);
    if (finished(rec.status)) {
      count_outcome(job->after, id, rec);
      count_outcome(job->follow, id, rec);
    } else {
      waiters_[id].push_back(job);
    }
  }
  evaluate_locked(job);
  if (!job->released && !job->dead) {
    if (job->deadline_ns) deadlines_.emplace(job->deadline_ns, job);
    // Dropping jobs that moved on keeps the list about as long as the jobs waiting.
    if (held_.size() >= 64 && held_.size() == held_.capacity())
      std::erase_if(held_, [](const auto& j) { return j->released || j->dead; });
    held_.push_back(job);
  }
}

void Scheduler::count_outcome(DepState& d, MsgId id, const TaskRecord& rec) {
  if (!std::binary_search(d.ids.begin(), d.ids.end(), id)) return;
  bool ok = rec.status == TaskStatus::ok;
  if (ok ? d.success : d.failure) {
    ++d.met;
    if (rec.engine >= 0 && std::find(d.engines.begin(), d.engines.end(), rec.engine) == d.engines.end())
      d.engines.push_back(rec.engine);
  } else {
    ++d.bad;
  }
}

void Scheduler::evaluate_locked(const std::shared_ptr<Job>& job) {
  if (job->released || job->dead) return;
  auto outcome = [](const DepState& d) {
    return d.success && d.failure ? "ended" : d.success ? "succeeded" : "failed";
  };
  for (const DepState* d : {&job->after, &job->follow}) {
    if (!d->impossible()) continue;
    const char* flag = d == &job->after ? "after" : "follow";
    fail_job_locked(*job, 0, job->ntasks, ErrorKind::impossible_dependency,
                    fmt::format("its '{}' dependency on msg ids {} can never be met: it needs {} of "
                                "them to have {}, and {} ended otherwise. The task never ran",
                                flag, id_list(d->ids), d->all ? "all" : "one",
                                outcome(*d), d->bad));
    return;
  }
  if (job->follow.all && job->follow.engines.size() > 1) {
    fail_job_locked(*job, 0, job->ntasks, ErrorKind::impossible_dependency,
                    fmt::format("its 'follow' dependency (all) on msg ids {} can never be met: "
                                "they ran on different engines ({}), and the task can run on one "
                                "only. Use Dependency(...).any() to run where any of them ran",
                                id_list(job->follow.ids), fmt::join(job->follow.engines, ", ")));
    return;
  }
  if (job->after.satisfied() && job->follow.satisfied()) release_locked(job);
}

void Scheduler::release_locked(const std::shared_ptr<Job>& job) {
  std::vector<int> allowed;
  for (int e : job->allowed) {
    if (retired(e)) continue;
    if (!job->follow.empty() &&
        std::find(job->follow.engines.begin(), job->follow.engines.end(), e) ==
            job->follow.engines.end())
      continue;
    allowed.push_back(e);
  }
  if (allowed.empty()) {
    fail_job_locked(*job, 0, job->ntasks, ErrorKind::impossible_dependency,
                    job->follow.empty()
                        ? fmt::format("none of the engines it may run on ({}) is in service: "
                                      "they were shut down (Client::shutdown)",
                                      fmt::join(job->allowed, ", "))
                        : fmt::format("its 'follow' tasks (msg ids {}) ran on engines {}, which "
                                      "it may not use (targets {}) or which were shut down",
                                      id_list(job->follow.ids), fmt::join(job->follow.engines, ", "),
                                      fmt::join(job->allowed, ", ")));
    return;
  }
  job->allowed = std::move(allowed);
  // Every engine in service: placed from the index, not by looking at each allowed engine.
  job->every = job->allowed.size() == core_.index_.in_service_count();
  job->released = true;
  ready_.push_back({job, 0, job->ntasks});
}

void Scheduler::fail_job_locked(Job& job, std::uint32_t from, std::uint32_t to, ErrorKind kind,
                                const std::string& why) {
  if (from == 0 && to == job.ntasks) job.dead = true;
  for (std::uint32_t t = from; t < to; ++t) {
    MsgId id = job.first + t;
    if (core_.record(id).status != TaskStatus::queued) continue;  // aborted one by one before
    --core_.queued_;
    core_.fail_items_locked(core_.record(id), id, kind, why);
  }
}

void Scheduler::task_done_locked(MsgId id) {
  done_.push_back(id);
  if (counting_) return;  // a failure this caused: the loop below takes it
  counting_ = true;
  while (!done_.empty()) {
    MsgId d = done_.back();
    done_.pop_back();
    if (live_ != 0) {
      if (auto it = tasks_.find(d); it != tasks_.end()) {
        Job& job = *it->second.job;
        --live_;
        if (job.retries > 0) --with_retries_;
        if (--job.unfinished == 0) job.src.reset();
      }
    }
    auto w = waiters_.find(d);
    if (w == waiters_.end()) continue;
    std::vector<std::shared_ptr<Job>> jobs = std::move(w->second);
    waiters_.erase(w);
    const TaskRecord& rec = core_.record(d);
    for (const auto& job : jobs) {
      if (job->released || job->dead) continue;
      count_outcome(job->after, d, rec);
      count_outcome(job->follow, d, rec);
      evaluate_locked(job);
    }
  }
  counting_ = false;
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
