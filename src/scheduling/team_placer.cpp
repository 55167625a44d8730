// Placing teams whole on idle engines, and the one holder (team_placer.hpp).
#include "scheduling/team_placer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mpiply::detail {

void TeamPlacer::reset() {
  holder_ = 0;
  job_.reset();
  engines_.clear();
}

void TeamPlacer::end() {
  for (int e : engines_) index_.release_hold(e);
  reset();
}

void TeamPlacer::end_if_gone() {
  if (holder_ != 0 && (job_->dead || sink_.outcome(holder_).status != TaskStatus::queued)) end();
}

void TeamPlacer::idle(int e) {
  const Job& job = *job_;
  const EngineStates& st = index_.states();
  if (engines_.size() >= job.resources.engines || st.held(e) || !st.in_service(e)) return;
  if (!std::binary_search(job.allowed.begin(), job.allowed.end(), e)) return;
  if (job.resources.has_claims() && !claims_.pool().could_fit(e, job.resources)) return;
  index_.hold(e);
  engines_.push_back(e);
}

bool TeamPlacer::place(ReadyRun& r) {
  Job& job = *r.job;
  const EngineStates& st = index_.states();
  const std::uint32_t k = job.resources.engines;
  const bool claims = job.resources.has_claims();
  auto usable = [&](int c) {
    return st.in_service(c) && (!claims || claims_.pool().could_fit(c, job.resources));
  };
  while (r.next < r.end) {
    MsgId id = job.first + r.next;
    // A team runs whole or not at all: a member aborted while it waited takes the others along.
    std::uint32_t queued = 0;
    for (std::uint32_t i = 0; i < k; ++i)
      if (sink_.outcome(id + i).status == TaskStatus::queued) ++queued;
    if (queued < k) {
      if (holder_ == id) end();
      for (std::uint32_t i = 0; i < k; ++i)
        if (sink_.outcome(id + i).status == TaskStatus::queued)
          sink_.fail(id + i, ErrorKind::aborted,
                     fmt::format("another member of its team (msg ids {}..{}) was aborted before "
                                 "the team was placed; a team runs whole or not at all",
                                 id, id + k - 1));
      r.next += k;
      continue;
    }
    std::size_t can = static_cast<std::size_t>(
        std::count_if(job.allowed.begin(), job.allowed.end(), usable));
    if (can < k) {
      if (holder_ == id) end();
      fail_range(sink_, job, r.next, r.end, ErrorKind::impossible_dependency,
                 fmt::format("it is a team of {} engines, and only {} of the engines it may run "
                             "on ({}) are in service{}",
                             k, can, fmt::join(job.allowed, ", "),
                             claims ? " and could hold its resources" : ""));
      r.next = r.end;
      continue;
    }
    const bool holder = holder_ == id;
    std::vector<int> members;
    // A held engine can still be sent a task by a DirectView (which names its engine itself):
    // it is a member only once idle again.
    if (holder)
      for (int c : engines_)
        if (st.load(c) == 0) members.push_back(c);
    for (int c : job.allowed) {
      if (members.size() >= k) break;
      if (!usable(c) || st.held(c) || st.load(c) != 0) continue;
      members.push_back(c);
    }
    if (members.size() < k) {
      if (holder_ == 0) {
        holder_ = id;
        job_ = r.job;
        engines_.clear();
      }
      if (holder_ == id)
        for (int c : members) idle(c);
      return false;
    }
    if (holder) end();
    members.resize(k);
    std::sort(members.begin(), members.end());
    std::uint32_t t = r.next;
    r.next += k;
    Placement where{{}, &job.resources, {}};
    where.engines.assign(members.begin(), members.end());
    for (std::uint32_t i = 0; i < k; ++i) {
      tasks_.at(id + i).tried.push_back(members[i]);
      // Every member is idle, so each grant is the engine's first cores and GPUs.
      if (claims) where.grant = claims_.take(members[i], id + i, r.job);
    }
    std::shared_ptr<TaskSource> src = job.source;  // the send may finish the job (inline)
    sink_.place(src, id, t, where);
  }
  return true;
}

}  // namespace mpiply::detail
