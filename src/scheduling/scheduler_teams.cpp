// The scheduler's teams: a task on k engines at once (TaskFlags::engines, docs/resources.md
// "Teams"). A team of k is k consecutive tasks of its batch, one per member; it is placed whole
// on k engines that are idle (no task outstanding), in ascending engine id, which is the team
// rank order. Idle, because every member must start the task at once: an engine that still had
// tasks queued could hold one member back while the others wait in a collective, and two teams
// queued in opposite orders on two engines would wait for each other for ever.
//
// The rule that keeps a team from waiting for ever behind one-engine tasks: the first team that
// finds too few idle engines becomes the holder. Each engine it may use that is idle, or goes
// idle later, is held for it (EngineIndex::hold: no other pick returns it) until it holds k,
// and then it is placed. Other tasks, one-engine or teams, use only engines not held. There is
// one holder at a time, so teams never each hold part of what they need; held engines are idle
// only while the holder waits for the rest of its k to finish what they run.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

void Scheduler::end_hold() {
  for (int e : hold_.engines) index_.release_hold(e);
  hold_ = {};
}

// Engine e has no task outstanding: the holder takes it if it may run there and still lacks some.
void Scheduler::hold_idle(int e) {
  const Job& job = *hold_.job;
  if (hold_.engines.size() >= job.resources.engines || index_.held(e) || !index_.in_service(e))
    return;
  if (!std::binary_search(job.allowed.begin(), job.allowed.end(), e)) return;
  if (job.resources.has_claims() && !pool_.could_fit(e, job.resources)) return;
  index_.hold(e);
  hold_.engines.push_back(e);
}

bool Scheduler::place_team(ReadyRun& r) {
  Job& job = *r.job;
  const std::uint32_t k = job.resources.engines;
  const bool claims = job.resources.has_claims();
  auto usable = [&](int c) {
    return index_.in_service(c) && (!claims || pool_.could_fit(c, job.resources));
  };
  while (r.next < r.end) {
    MsgId id = job.first + r.next;
    // A team runs whole or not at all: a member aborted while it waited takes the others along.
    std::uint32_t queued = 0;
    for (std::uint32_t i = 0; i < k; ++i)
      if (sink_.outcome(id + i).status == TaskStatus::queued) ++queued;
    if (queued < k) {
      if (hold_.id == id) end_hold();
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
      if (hold_.id == id) end_hold();
      fail_range(job, r.next, r.end, ErrorKind::impossible_dependency,
                 fmt::format("it is a team of {} engines, and only {} of the engines it may run "
                             "on ({}) are in service{}",
                             k, can, fmt::join(job.allowed, ", "),
                             claims ? " and could hold its resources" : ""));
      r.next = r.end;
      continue;
    }
    const bool holder = hold_.id == id;
    std::vector<int> members;
    // A held engine can still be sent a task by a DirectView (which names its engine itself):
    // it is a member only once idle again.
    if (holder)
      for (int c : hold_.engines)
        if (index_.load(c) == 0) members.push_back(c);
    for (int c : job.allowed) {
      if (members.size() >= k) break;
      if (!usable(c) || index_.held(c) || index_.load(c) != 0) continue;
      members.push_back(c);
    }
    if (members.size() < k) {
      if (hold_.id == 0) hold_ = {id, r.job, {}};
      if (hold_.id == id)
        for (int c : members) hold_idle(c);
      return false;
    }
    if (holder) end_hold();
    members.resize(k);
    std::sort(members.begin(), members.end());
    std::uint32_t t = r.next;
    r.next += k;
    Placement where{{}, &job.resources, {}};
    where.engines.assign(members.begin(), members.end());
    for (std::uint32_t i = 0; i < k; ++i) {
      tasks_[id + i].tried.push_back(members[i]);
      if (claims) {
        // Every member is idle, so each grant is the engine's first cores and GPUs.
        where.grant = pool_.take(members[i], job.resources);
        grants_[id + i] = {members[i], where.grant, r.job};
      }
    }
    std::shared_ptr<TaskSource> src = job.source;  // the send may finish the job (inline)
    sink_.place(src, id, t, where);
  }
  return true;
}

}  // namespace mpiply::detail
