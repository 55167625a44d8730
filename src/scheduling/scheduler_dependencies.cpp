// The scheduler's dependencies: admitting a flagged submission, evaluating its after/follow
// conditions as tasks finish, releasing it when they hold and failing it when they cannot
// (ImpossibleDependency). See scheduler.hpp. Every function runs with ClientCore's lock held.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "client/client_core.hpp"
#include "support/clock.hpp"
#include "scheduling/scheduler.hpp"
#include "scheduling/scheduler_ids.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

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


}  // namespace mpiply::detail
