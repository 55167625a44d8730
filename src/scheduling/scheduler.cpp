// Rank 0's scheduler: what needs more than one of its components (scheduler.hpp).
#include "scheduling/scheduler.hpp"

#include <atomic>

namespace mpiply::detail {

namespace {

std::atomic<std::uint64_t> g_runs{0};

}  // namespace

Scheduler::Scheduler(SchedulerSink& sink, Scheme scheme)
    : run_(++g_runs),
      tasks_(sink),
      placer_(sink, tasks_, scheme),
      ready_(sink, placer_, tasks_),
      admission_(sink, placer_, tasks_, ready_) {}

void Scheduler::shut_down(const std::vector<int>& engines, std::int64_t now_ns) {
  ready_.recheck();
  placer_.retire(engines);
  dispatch(now_ns);  // fails flagged entries left without an engine
}

void Scheduler::dispatch(std::int64_t now_ns) {
  const bool expiring = admission_.timing() && admission_.audit_timeouts(now_ns);
  placer_.tidy();
  ready_.pass(expiring);
}

bool Scheduler::retry(MsgId id, int e, std::string_view error) {
  if (placer_.give_back(id)) ready_.freed();  // its run ended, whether it runs again or not
  TaskInfo* ti = tasks_.find(id);
  if (ti == nullptr) return false;
  const std::shared_ptr<Job>& job = ti->job;
  // tried holds every attempt so far, this one included (recorded when it was sent).
  if (ti->tried.empty() || ti->tried.back() != e) ti->tried.push_back(e);
  ready_.recheck();
  if (job->retries <= 0 || ti->tried.size() > static_cast<std::size_t>(job->retries))
    return false;
  ti->last_error = error;
  auto t = static_cast<std::uint32_t>(id - job->first);
  ready_.enqueue({job, t, t + 1});
  return true;
}

void Scheduler::abort_all(const std::string& why) {
  placer_.end_hold();
  admission_.abort_all(why);
}

}  // namespace mpiply::detail
