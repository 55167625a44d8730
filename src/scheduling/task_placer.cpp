// Placing released runs on engines, and keeping the engines' components in step
// (task_placer.hpp).
#include "scheduling/task_placer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mpiply::detail {

void TaskPlacer::reset(std::size_t n, unsigned hwm, unsigned deep) {
  windows_.reset(n, hwm, deep);
  index_.reset(n, windows_.hwm(), windows_.deepest(), picker_.scheme());
  picker_.reset();
  claims_.reset(n);
  teams_.reset();
}

bool TaskPlacer::set_load(int e, unsigned outstanding) {
  const bool freed = outstanding < index_.states().load(e);
  index_.set_load(e, outstanding);
  if (outstanding == 0 && teams_.holder() != 0) teams_.idle(e);
  return freed;
}

bool TaskPlacer::ran(int e, std::int64_t ran_ns) {
  if (!windows_.deepens()) return false;
  unsigned old = index_.states().window(e);
  unsigned w = windows_.ran(e, ran_ns);
  if (w == old) return false;
  index_.set_window(e, w);
  return w > old;
}

void TaskPlacer::retire(const std::vector<int>& engines) {
  end_hold();  // the team holds what is left at the next dispatch
  for (int e : engines) index_.retire(e);
  // The owner checks each plain submission against engines out of service from now on
  // (EngineStates::any_in_service).
  picker_.slow();
}

void TaskPlacer::tidy() {
  // A reservation ends with its task's wait: placed (take clears it), failed, or aborted.
  if (int e = claims_.reserved_engine();
      e >= 0 && (sink_.outcome(claims_.reserved_for()).status != TaskStatus::queued ||
                 !index_.states().in_service(e)))
    claims_.end_reservation();
  teams_.end_if_gone();
}

bool TaskPlacer::place(ReadyRun& r) {
  if (r.job->resources.engines > 1) return teams_.place(r);
  Job& job = *r.job;
  const EngineStates& st = index_.states();
  while (r.next < r.end) {
    MsgId id = job.first + r.next;
    if (sink_.outcome(id).status != TaskStatus::queued) {  // aborted while it waited
      ++r.next;
      continue;
    }
    TaskInfo& ti = tasks_.at(id);
    // A task never goes back to an engine it was sent to: it failed there (ipyparallel's
    // per-task blacklist of engines for retries).
    auto untried = [&](int c) {
      return std::find(ti.tried.begin(), ti.tried.end(), c) == ti.tried.end();
    };
    bool claims = job.resources.has_claims();
    int e = claims                          ? claims_.fit(job, ti, id, st)
            : ti.tried.empty() && job.every ? picker_.any()
                                            : picker_.among(job.allowed, untried);
    if (e < 0) {
      auto usable = [&](int c) {
        return st.in_service(c) && untried(c) &&
               (!claims || claims_.pool().could_fit(c, job.resources));
      };
      if (std::any_of(job.allowed.begin(), job.allowed.end(), usable)) {
        if (claims) claims_.reserve(job, id, usable);
        return false;
      }
      std::vector<int> live;
      for (int c : job.allowed)
        if (st.in_service(c) && untried(c)) live.push_back(c);
      std::string why =
          claims && !live.empty() ? claims_.pool().never_fits(job.resources, live)
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
      fail_range(sink_, job, r.next, to, ErrorKind::impossible_dependency, why);
      r.next = to;
      continue;
    }
    std::uint32_t t = r.next++;
    ti.tried.push_back(e);
    std::shared_ptr<TaskSource> src = job.source;  // the send may finish the job (inline)
    Placement where{{e}, &job.resources, {}};
    if (claims) where.grant = claims_.take(e, id, r.job);
    sink_.place(src, id, t, where);
  }
  return true;
}

}  // namespace mpiply::detail
