// The scheduler's flagged submissions before release: admission, dependencies, timeouts
// (admission.hpp).
#include "scheduling/admission.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scheduling/scheduler_ids.hpp"

namespace mpiply::detail {

void Admission::admit(const TaskBatch& batch, std::int64_t now_ns) {
  // A team of k is k consecutive tasks, one per member (team_placer.hpp). A retry would
  // send one member alone, so teams have none.
  if (std::uint32_t k = batch.resources.engines; k != 1 && (k == 0 || batch.ntasks % k != 0 ||
                                                            batch.flags.retries.value_or(0) > 0))
    throw UsageError(fmt::format(
        "mpiply: msg ids {}..{} ask for teams of {} engines in {} tasks with {} retries; a team "
        "task is k tasks, one per member, and cannot be retried",
        batch.first, batch.first + batch.ntasks, k, batch.ntasks,
        batch.flags.retries.value_or(0)));
  auto job = std::make_shared<Job>();
  const TaskFlags& f = batch.flags;
  job->first = batch.first;
  job->ntasks = job->unfinished = batch.ntasks;
  job->retries = f.retries.value_or(0);
  job->resources = batch.resources;
  job->priority = f.priority.value_or(0);
  job->seq = ++seq_;
  if (f.timeout) {
    job->timeout_s = f.timeout->count();
    job->deadline_ns = now_ns + static_cast<std::int64_t>(job->timeout_s * 1e9);
  }
  // The engines it may use: the view's, narrowed by the targets flag.
  std::vector<int> allowed(batch.engines.begin(), batch.engines.end());
  if (allowed.empty())
    for (std::size_t e = 0; e < placer_.engines().size(); ++e)
      allowed.push_back(static_cast<int>(e));
  if (f.targets) {
    std::vector<int> t = *f.targets;
    std::sort(t.begin(), t.end());
    std::vector<int> both;
    std::set_intersection(allowed.begin(), allowed.end(), t.begin(), t.end(),
                          std::back_inserter(both));
    allowed = std::move(both);
  }
  job->allowed = std::move(allowed);
  job->source = batch.source;
  // The owner refuses such a request at the call site (a UsageError); here it fails its tasks,
  // never leaving them to wait for an engine that cannot come.
  std::string never =
      job->resources.has_claims() ? placer_.claims().pool().never_fits(job->resources, job->allowed)
                                  : "";
  tasks_.add(job);

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
    TaskOutcome o = sink_.outcome(id);
    if (is_finished(o.status)) {
      job->after.count(id, o);
      job->follow.count(id, o);
    } else {
      waits_.add(id, job);
    }
  }
  if (!never.empty()) {
    fail_range(sink_, *job, 0, job->ntasks, ErrorKind::impossible_dependency, never);
    return;
  }
  evaluate(job);
  if (job->deadline_ns && !job->dead) deadlines_.emplace(job->deadline_ns, job);
  if (!job->released && !job->dead) {
    // Dropping jobs that moved on keeps the list about as long as the jobs waiting.
    if (held_.size() >= 64 && held_.size() == held_.capacity())
      std::erase_if(held_, [](const auto& j) { return j->released || j->dead; });
    held_.push_back(job);
  }
}

void Admission::evaluate(const std::shared_ptr<Job>& job) {
  if (job->released || job->dead) return;
  auto outcome = [](const DepState& d) {
    return d.success && d.failure ? "ended" : d.success ? "succeeded" : "failed";
  };
  for (const DepState* d : {&job->after, &job->follow}) {
    if (!d->impossible()) continue;
    const char* flag = d == &job->after ? "after" : "follow";
    fail_range(sink_, *job, 0, job->ntasks, ErrorKind::impossible_dependency,
               fmt::format("its '{}' dependency on msg ids {} can never be met: it needs {} of "
                           "them to have {}, and {} ended otherwise. The task never ran",
                           flag, id_list(d->ids), d->all ? "all" : "one", outcome(*d), d->bad));
    return;
  }
  if (job->follow.all && job->follow.engines.size() > 1) {
    fail_range(sink_, *job, 0, job->ntasks, ErrorKind::impossible_dependency,
               fmt::format("its 'follow' dependency (all) on msg ids {} can never be met: they "
                           "ran on different engines ({}), and the task can run on one only. Use "
                           "Dependency(...).any() to run where any of them ran",
                           id_list(job->follow.ids), fmt::join(job->follow.engines, ", ")));
    return;
  }
  if (job->after.satisfied() && job->follow.satisfied()) release(job);
}

void Admission::release(const std::shared_ptr<Job>& job) {
  std::vector<int> allowed;
  for (int e : job->allowed) {
    if (!placer_.engines().in_service(e)) continue;
    if (!job->follow.empty() &&
        std::find(job->follow.engines.begin(), job->follow.engines.end(), e) ==
            job->follow.engines.end())
      continue;
    allowed.push_back(e);
  }
  if (allowed.empty()) {
    fail_range(sink_, *job, 0, job->ntasks, ErrorKind::impossible_dependency,
               job->follow.empty()
                   ? fmt::format("none of the engines it may run on ({}) is in service: they "
                                 "were shut down (Client::shutdown)",
                                 fmt::join(job->allowed, ", "))
                   : fmt::format("its 'follow' tasks (msg ids {}) ran on engines {}, which it "
                                 "may not use (targets {}) or which were shut down",
                                 id_list(job->follow.ids), fmt::join(job->follow.engines, ", "),
                                 fmt::join(job->allowed, ", ")));
    return;
  }
  job->allowed = std::move(allowed);
  // Every engine in service: placed from the index, not by looking at each allowed engine.
  job->every = job->allowed.size() == placer_.engines().in_service_count();
  job->released = true;
  ready_.enqueue({job, 0, job->ntasks});
}

void Admission::task_done(MsgId id, const TaskOutcome& o) {
  if (!waits_.finished(id, o)) return;  // a failure this count caused: the loop below takes it
  std::pair<MsgId, TaskOutcome> d;
  while (waits_.next(d)) {
    tasks_.finished(d.first);
    for (const auto& job : waits_.take(d.first)) {
      if (job->released || job->dead) continue;
      job->after.count(d.first, d.second);
      job->follow.count(d.first, d.second);
      evaluate(job);
    }
  }
}

bool Admission::audit_timeouts(std::int64_t now_ns) {
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
    fail_range(sink_, *job, 0, job->ntasks, ErrorKind::dependency_timeout,
               fmt::format("it waited {:g} s (its timeout flag) for its dependencies on msg ids "
                           "{} and they were not met; it never ran",
                           job->timeout_s, id_list(ids)));
  }
  return expired;
}

void Admission::abort_all(const std::string& why) {
  // Everything is taken and marked dead before the first task fails: a failure finishes a task,
  // and what that releases or re-evaluates must find nothing left to run.
  std::vector<std::pair<std::shared_ptr<Job>, std::pair<std::uint32_t, std::uint32_t>>> drop;
  for (const auto& job : held_)
    if (!job->released && !job->dead) drop.push_back({job, {0, job->ntasks}});
  for (auto& r : ready_.take_all())
    if (r.next < r.end) drop.push_back({r.job, {r.next, r.end}});
  for (auto& d : drop) d.first->dead = true;
  waits_.clear();
  held_.clear();
  deadlines_ = {};
  for (auto& [job, range] : drop)
    fail_range(sink_, *job, range.first, range.second, ErrorKind::aborted, why);
}

}  // namespace mpiply::detail
