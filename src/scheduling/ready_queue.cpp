// The released runs by priority and the bounded dispatch pass over them (ready_queue.hpp).
#include "scheduling/ready_queue.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mpiply::detail {

void ReadyQueue::enqueue(ReadyRun r) {
  auto at = ready_.end();
  while (at != ready_.begin() && std::prev(at)->job->priority < r.job->priority) --at;
  ready_.insert(at, std::move(r));
}

// Whether a fresh task of `later` (behind `stuck` in the queue) can find no room where a fresh
// task of `stuck` found none, with no room freed since: the same request on the same engines,
// and not ahead of it for the reservation (ResourceClaims::fit's `behind`). Skipping such runs
// keeps a long queue of one-task submissions (a loop of apply_async with flags) from costing a
// scan of every engine for every waiting run at every result.
bool ReadyQueue::same_wait(const Job& later, const Job& stuck) {
  if (later.priority != stuck.priority) {
    if (later.priority > stuck.priority) return false;
  } else if (later.seq < stuck.seq) {
    return false;
  }
  return later.every == stuck.every && later.resources == stuck.resources &&
         (later.every || later.allowed == stuck.allowed);
}

void ReadyQueue::pass(bool expiring) {
  if (ready_.empty()) return;
  // Held engines have no room for anyone else: while a team holds, its run is looked at anyway.
  std::deque<ReadyRun> rest;
  std::vector<const Job*> stuck;
  std::uint64_t stuck_at = freed_;
  std::size_t tried = 0;
  while (!ready_.empty() && placer_.room() && tried < kBackfillWindow) {
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
        r.job->resources.engines == 1 && tasks_.untried(r.job->first + r.next);
    const bool skip = fresh && std::any_of(stuck.begin(), stuck.end(), [&](const Job* s) {
                        return same_wait(*r.job, *s);
                      });
    if (skip || !placer_.place(r)) {
      if (!skip && fresh && freed_ == stuck_at) stuck.push_back(r.job.get());
      rest.push_back(std::move(r));
    }
  }
  put_back(rest);
  const bool recheck = std::exchange(recheck_, false);
  if (recheck || expiring) sweep(recheck);
}

// Runs released meanwhile (by tasks that ran inline) keep their places by priority; the
// untried tail stays where it is.
void ReadyQueue::put_back(std::deque<ReadyRun>& rest) {
  for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
    auto at = ready_.begin();
    while (at != ready_.end() && at->job->priority > it->job->priority) ++at;
    ready_.insert(at, std::move(*it));
  }
}

void ReadyQueue::sweep(bool recheck) {
  std::deque<ReadyRun> all;
  all.swap(ready_);
  const EngineStates& st = placer_.engines();
  for (auto& r : all) {
    if (recheck && r.next < r.end) {
      const TaskInfo* ti = tasks_.find(r.job->first + r.next);
      bool possible = std::any_of(r.job->allowed.begin(), r.job->allowed.end(), [&](int c) {
        return st.in_service(c) &&
               (!ti || std::find(ti->tried.begin(), ti->tried.end(), c) == ti->tried.end());
      });
      if (!possible) placer_.place(r);  // finds no engine and fails what cannot run
    }
    if (r.next < r.end && r.job->expired) {
      fail_range(sink_, *r.job, r.next, r.end, ErrorKind::dependency_timeout,
                 fmt::format("its timeout flag ({:g} s) passed before an engine it may run on "
                             "(engines {}) had room for it; it {}",
                             r.job->timeout_s, fmt::join(r.job->allowed, ", "),
                             tasks_.untried(r.job->first + r.next)
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

std::deque<ReadyRun> ReadyQueue::take_all() {
  std::deque<ReadyRun> all;
  all.swap(ready_);
  return all;
}

}  // namespace mpiply::detail
