// Rank 0's scheduler: engines, placement, retries, timeouts, shut-down engines (dependencies:
// scheduler_dependencies.cpp). See scheduler.hpp.
#include "scheduling/scheduler.hpp"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scheduling/scheduler_ids.hpp"

namespace mpiply::detail {

namespace {

std::atomic<std::uint64_t> g_runs{0};

}  // namespace

Scheduler::Scheduler(SchedulerSink& sink, Scheme scheme)
    : sink_(sink), run_(++g_runs), picker_(scheme), fast_(scheme == Scheme::leastload) {}

void Scheduler::reset_engines(std::size_t n, unsigned hwm) {
  index_.reset(n, hwm, picker_.scheme());
  fast_ = picker_.scheme() == Scheme::leastload;
  pool_.reset(n);
  grants_.clear();
  reserve_ = {};
  hold_ = {};
}

std::string Scheduler::never_fits(const ResourceRequest& r, const std::vector<int>& engines) const {
  if (!r.has_claims()) return {};
  std::vector<int> all;
  if (engines.empty())
    for (std::size_t e = 0; e < pool_.size(); ++e) all.push_back(static_cast<int>(e));
  return pool_.never_fits(r, engines.empty() ? all : engines);
}

void Scheduler::give_back(MsgId id) {
  auto it = grants_.find(id);
  if (it == grants_.end()) return;
  pool_.give_back(it->second.engine, it->second.job->resources, it->second.grant);
  grants_.erase(it);
  ++freed_;
}

// Whether a fresh task of `later` (behind `stuck` in ready_) can find no room where a fresh task
// of `stuck` found none, with no room freed since: the same request on the same engines, and
// not ahead of it for the reservation (pick_fitting's `behind`). Skipping such runs keeps a long
// queue of one-task submissions (a loop of apply_async with flags) from costing a scan of every
// engine for every waiting run at every result.
bool Scheduler::same_wait(const Job& later, const Job& stuck) const {
  if (later.priority != stuck.priority) {
    if (later.priority > stuck.priority) return false;
  } else if (later.seq < stuck.seq) {
    return false;
  }
  return later.every == stuck.every && later.resources == stuck.resources &&
         (later.every || later.allowed == stuck.allowed);
}

// Keeps ready_ ordered by priority, highest first; equal priorities stay in the order they came.
void Scheduler::enqueue(ReadyRun r) {
  auto at = ready_.end();
  while (at != ready_.begin() && std::prev(at)->job->priority < r.job->priority) --at;
  ready_.insert(at, std::move(r));
}

// The engine for a task with claims: among those it may use with room, where its amounts are
// free now, the best fit (fewest cores, then GPUs, left over: a larger task later finds a larger
// hole), then the least loaded. The engine reserved for an earlier task is not for those behind
// it. -1 if none fits now.
int Scheduler::pick_fitting(const Job& job, const TaskInfo& ti, MsgId id) {
  const ResourceRequest& req = job.resources;
  auto behind = [&] {
    if (job.priority != reserve_.priority) return job.priority < reserve_.priority;
    return job.seq != reserve_.seq ? job.seq > reserve_.seq : id > reserve_.id;
  };
  int best = -1;
  unsigned best_cores = 0, best_gpus = 0, best_load = 0;
  for (int c : job.allowed) {
    if (!index_.has_room(c) || !pool_.fits(c, req)) continue;
    if (std::find(ti.tried.begin(), ti.tried.end(), c) != ti.tried.end()) continue;
    if (c == reserve_.engine && id != reserve_.id && behind()) continue;
    unsigned cores = pool_.free_cores(c) - req.cores, gpus = pool_.free_gpus(c) - req.gpus;
    unsigned load = index_.load(c);
    if (best < 0 || std::tie(cores, gpus, load) < std::tie(best_cores, best_gpus, best_load)) {
      best = c;
      best_cores = cores;
      best_gpus = gpus;
      best_load = load;
    }
  }
  return best;
}

bool Scheduler::any_in_service(const std::vector<int>& engines) const {
  if (engines.empty()) return index_.in_service_count() > 0;
  return std::any_of(engines.begin(), engines.end(), [&](int e) { return index_.in_service(e); });
}

int Scheduler::pick_plain(const std::vector<int>& candidates) {
  if (candidates.empty()) return picker_.pick(index_);
  return picker_.pick_among(index_, candidates, [](int) { return true; });
}

void Scheduler::shut_down(const std::vector<int>& engines, std::int64_t now_ns) {
  recheck_ = true;
  if (hold_.id != 0) end_hold();  // the team holds what is left at the next dispatch
  for (int e : engines) index_.retire(e);
  // From now on plain tasks are placed through pick_plain, which knows engines out of service,
  // and the owner checks each plain submission against them (any_in_service).
  fast_ = false;
  dispatch(now_ns);  // fails flagged entries left without an engine
}

bool Scheduler::retry(MsgId id, int e, std::string_view error) {
  if (!grants_.empty()) give_back(id);  // its run ended, whether it runs again or not
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return false;
  TaskInfo& ti = it->second;
  const std::shared_ptr<Job>& job = ti.job;
  // tried holds every attempt so far, this one included (recorded when it was sent).
  if (ti.tried.empty() || ti.tried.back() != e) ti.tried.push_back(e);
  recheck_ = true;
  if (job->retries <= 0 || ti.tried.size() > static_cast<std::size_t>(job->retries)) return false;
  ti.last_error = error;
  auto t = static_cast<std::uint32_t>(id - job->first);
  enqueue({job, t, t + 1});
  return true;
}

// Places tasks of r while an engine it may use has room; false if some are left.
bool Scheduler::place(ReadyRun& r) {
  if (r.job->resources.engines > 1) return place_team(r);
  Job& job = *r.job;
  while (r.next < r.end) {
    MsgId id = job.first + r.next;
    if (sink_.outcome(id).status != TaskStatus::queued) {  // aborted while it waited
      ++r.next;
      continue;
    }
    TaskInfo& ti = tasks_[id];
    // A task never goes back to an engine it was sent to: it failed there (ipyparallel's
    // per-task blacklist of engines for retries).
    auto untried = [&](int c) {
      return std::find(ti.tried.begin(), ti.tried.end(), c) == ti.tried.end();
    };
    bool claims = job.resources.has_claims();
    int e = claims                           ? pick_fitting(job, ti, id)
            : ti.tried.empty() && job.every ? picker_.pick(index_)
                                            : picker_.pick_among(index_, job.allowed, untried);
    if (e < 0) {
      auto usable = [&](int c) {
        return index_.in_service(c) && untried(c) && (!claims || pool_.could_fit(c, job.resources));
      };
      if (std::any_of(job.allowed.begin(), job.allowed.end(), usable)) {
        if (claims && reserve_.engine < 0) {
          // It holds the usable engine with the most cores free: the one likely to fit it first.
          int at = -1;
          for (int c : job.allowed)
            if (usable(c) && (at < 0 || pool_.free_cores(c) > pool_.free_cores(at))) at = c;
          reserve_ = {at, id, job.priority, job.seq};
        }
        return false;
      }
      std::vector<int> live;
      for (int c : job.allowed)
        if (index_.in_service(c) && untried(c)) live.push_back(c);
      std::string why =
          claims && !live.empty() ? pool_.never_fits(job.resources, live)
          : ti.tried.empty()
              ? fmt::format("every engine it may run on ({}) was shut down (Client::shutdown) "
                            "before it was sent",
                            fmt::join(job.allowed, ", "))
              : fmt::format("it raised on engines {} and has retries left, but a retry never "
                            "goes back to an engine the task failed on, and no other engine it "
                            "may run on (engines {}) is in service. Its last error: {}",
                            fmt::join(ti.tried, ", "), fmt::join(job.allowed, ", "),
                            ti.last_error);
      // A retried task waits alone in its run; fresh tasks of one run share their engines.
      std::uint32_t to = ti.tried.empty() ? r.end : r.next + 1;
      fail_range(job, r.next, to, ErrorKind::impossible_dependency, why);
      r.next = to;
      continue;
    }
    std::uint32_t t = r.next++;
    ti.tried.push_back(e);
    std::shared_ptr<TaskSource> src = job.source;  // the send may finish the job (inline)
    Placement where{{e}, &job.resources, {}};
    if (claims) {
      where.grant = pool_.take(e, job.resources);
      grants_[id] = {e, where.grant, r.job};
      if (reserve_.id == id) reserve_ = {};
    }
    sink_.place(src, id, t, where);
  }
  return true;
}

bool Scheduler::audit_timeouts(std::int64_t now_ns) {
  bool expired = false;
  while (!deadlines_.empty() && deadlines_.top().first <= now_ns) {
    std::shared_ptr<Job> job = deadlines_.top().second;
    deadlines_.pop();
    if (job->dead) continue;
    if (job->released) {
      job->expired = true;  // its tasks not placed when dispatch next asks fail there
      expired = true;
      continue;
    }
    std::vector<MsgId> ids;
    std::set_union(job->after.ids.begin(), job->after.ids.end(), job->follow.ids.begin(),
                   job->follow.ids.end(), std::back_inserter(ids));
    fail_range(*job, 0, job->ntasks, ErrorKind::dependency_timeout,
               fmt::format("it waited {:g} s (its timeout flag) for its dependencies on msg ids "
                           "{} and they were not met; it never ran",
                           job->timeout_s, id_list(ids)));
  }
  return expired;
}

void Scheduler::dispatch(std::int64_t now_ns) {
  bool expiring = false;
  if (!deadlines_.empty()) expiring = audit_timeouts(now_ns);
  // A reservation ends with its task's wait: placed (place clears it), failed, or aborted.
  if (reserve_.engine >= 0 && (sink_.outcome(reserve_.id).status != TaskStatus::queued ||
                               !index_.in_service(reserve_.engine)))
    reserve_ = {};
  if (hold_.id != 0 && (hold_.job->dead || sink_.outcome(hold_.id).status != TaskStatus::queued))
    end_hold();
  if (ready_.empty()) return;
  // Runs are tried from the front; those that cannot go now wait in order behind the others,
  // which still go: a task restricted to busy engines holds back nobody else. A run like one
  // that just found no room is not tried again until room is freed (same_wait), and one pass
  // tries at most kBackfillWindow runs (as Slurm's backfill tests at most bf_max_job_test jobs):
  // a queue of many one-task submissions costs each result a bounded pass, not a scan of the
  // whole queue. The untried tail stays where it is. Held engines have no room for anyone
  // else: while a team holds, its run is looked at anyway.
  std::deque<ReadyRun> rest;
  std::vector<const Job*> stuck;
  std::uint64_t stuck_at = freed_;
  std::size_t tried = 0;
  while (!ready_.empty() && (index_.any_room() || hold_.id != 0) && tried < kBackfillWindow) {
    ReadyRun r = std::move(ready_.front());
    ready_.pop_front();
    if (r.next >= r.end) continue;
    ++tried;
    if (freed_ != stuck_at) {
      stuck.clear();
      stuck_at = freed_;
    }
    // A team's run is always tried: the one holding engines is placed there when it has k.
    const bool fresh =
        r.job->resources.engines == 1 && tasks_[r.job->first + r.next].tried.empty();
    const bool skip = fresh && std::any_of(stuck.begin(), stuck.end(), [&](const Job* s) {
                        return same_wait(*r.job, *s);
                      });
    if (skip || !place(r)) {
      if (!skip && fresh && freed_ == stuck_at) stuck.push_back(r.job.get());
      rest.push_back(std::move(r));
    }
  }
  // Back in front of the untried tail, in their order; runs released meanwhile (by tasks that
  // ran inline) keep their places by priority.
  for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
    auto at = ready_.begin();
    while (at != ready_.end() && at->job->priority > it->job->priority) ++at;
    ready_.insert(at, std::move(*it));
  }
  // After a shut-down or a retry, every waiting run is checked for impossibility: a task with
  // nowhere left to go fails now, not when room comes. After a timeout flag passed, every
  // waiting run of an expired job fails (ipyparallel's TaskTimeout).
  const bool recheck = std::exchange(recheck_, false);
  if (!recheck && !expiring) return;
  std::deque<ReadyRun> all;
  all.swap(ready_);
  for (auto& r : all) {
    if (recheck && r.next < r.end) {
      const TaskInfo& ti = tasks_[r.job->first + r.next];
      bool possible = std::any_of(r.job->allowed.begin(), r.job->allowed.end(), [&](int c) {
        return index_.in_service(c) &&
               std::find(ti.tried.begin(), ti.tried.end(), c) == ti.tried.end();
      });
      if (!possible) place(r);  // finds no engine and fails what cannot run
    }
    if (r.next < r.end && r.job->expired) {
      fail_range(*r.job, r.next, r.end, ErrorKind::dependency_timeout,
                 fmt::format("its timeout flag ({:g} s) passed before an engine it may run on "
                             "(engines {}) had room for it; it {}",
                             r.job->timeout_s, fmt::join(r.job->allowed, ", "),
                             tasks_[r.job->first + r.next].tried.empty()
                                 ? "never ran"
                                 : "was waiting to run again after it raised"));
      r.next = r.end;
    }
  }
  // Whatever those released meanwhile came after `all`'s runs of its priority.
  std::deque<ReadyRun> released;
  released.swap(ready_);
  for (auto& r : all)
    if (r.next < r.end) ready_.push_back(std::move(r));
  for (auto& r : released) enqueue(std::move(r));
}

void Scheduler::fail_range(Job& job, std::uint32_t from, std::uint32_t to, ErrorKind kind,
                           const std::string& why) {
  if (from == 0 && to == job.ntasks) job.dead = true;
  for (std::uint32_t t = from; t < to; ++t) {
    MsgId id = job.first + t;
    if (sink_.outcome(id).status != TaskStatus::queued) continue;  // aborted one by one before
    sink_.fail(id, kind, why);
  }
}

void Scheduler::abort_all(const std::string& why) {
  std::vector<std::pair<std::shared_ptr<Job>, std::pair<std::uint32_t, std::uint32_t>>> drop;
  for (const auto& job : held_)
    if (!job->released && !job->dead) drop.push_back({job, {0, job->ntasks}});
  for (const auto& r : ready_)
    if (r.next < r.end) drop.push_back({r.job, {r.next, r.end}});
  for (auto& d : drop) d.first->dead = true;
  if (hold_.id != 0) end_hold();
  ready_.clear();
  waits_.clear();
  held_.clear();
  deadlines_ = {};
  for (auto& [job, range] : drop)
    fail_range(*job, range.first, range.second, ErrorKind::aborted, why);
}

void Scheduler::fill_metadata(MsgId id, TaskMetadata& m) const {
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

void Scheduler::forget(MsgId id) {
  auto it = tasks_.find(id);
  if (it != tasks_.end() && is_finished(sink_.outcome(id).status)) tasks_.erase(it);
}

}  // namespace mpiply::detail
