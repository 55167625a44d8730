#pragma once
// Rank 0's scheduler for load-balanced tasks with flags (task_flags.hpp): it holds tasks back
// until their `after` / `follow` dependencies are met (ipyparallel's Dependency semantics), fails
// them at once when that can no longer happen (ImpossibleDependency) or when `timeout` passes
// (DependencyTimeout), places them by the run's Scheme on the engines they may use (`targets`,
// `follow`, not shut down), and re-queues a task that raised while it has `retries` left, on an
// engine it has not tried when there is one.
//
// Plain tasks (no flags) never come here: ClientCore keeps its own queues and loop for them, and
// asks this class only when a scheme other than leastload or rc.shutdown(targets) is in effect.
// Everything runs under ClientCore's lock; this class is a friend of ClientCore and uses its
// queues' counters, its records and its send and fail functions.
#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/metadata.hpp>

#include "scheduling/schemes.hpp"

namespace mpiply::detail {

class ClientCore;
struct TaskRecord;

class Scheduler {
 public:
  explicit Scheduler(ClientCore& core);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  // This client run's serial number (Dependency::run of its results), unique in the process.
  std::uint64_t run() const noexcept { return run_; }

  // Plain load balancing can use ClientCore's own loop: leastload, every engine in service.
  bool plain_fast() const noexcept { return fast_; }
  // An engine for a plain task (among candidates, all when empty), or -1 if none has room.
  int pick_plain_locked(const std::vector<int>& candidates);

  // A load-balanced source with scheduling flags: the scheduler keeps it from here on.
  static bool takes(const TaskSource& src) noexcept {
    return src.targets.empty() && (src.flags.after || src.flags.follow || src.flags.retries ||
                                   src.flags.timeout || src.flags.targets);
  }
  // Records src (its tasks are counted in ClientCore::queued_) and releases or fails it.
  void admit_locked(std::shared_ptr<TaskSource> src);
  // Sends the released tasks engines have room for, and fails those whose timeout passed.
  void dispatch_locked();
  bool busy() const noexcept { return !ready_.empty() || !deadlines_.empty(); }

  // A task finished (its record's status is final): counts it for the tasks waiting on it.
  void on_task_done_locked(MsgId id) {
    if (!waiters_.empty() || live_ != 0) task_done_locked(id);
  }
  // Before a result is stored: if the task raised and has retries left, re-queue it and return
  // true (the result is then dropped). items: the result's items, already checked.
  bool retry_locked(TaskRecord& rec, int engine, MsgId id, const char* items, std::size_t n) {
    return with_retries_ != 0 && maybe_retry_locked(rec, engine, id, items, n);
  }

  // rc.shutdown(targets): those engines get no more tasks. Tasks that now have no engine left
  // fail with ImpossibleDependency (flagged) or TaskAborted (plain).
  void retire_locked(const std::vector<int>& engines);
  // A plain source submitted after rc.shutdown(targets): fails its tasks if no engine is left
  // for them (load-balanced) or if any of its targets was shut down (DirectView: all or
  // nothing). False, with nothing done, otherwise.
  bool refuse_locked(const std::shared_ptr<TaskSource>& src);
  bool retired(int e) const noexcept { return !retired_.empty() && retired_[e]; }
  // Whether a load-balanced view over these engines still has one in service.
  bool any_in_service(const std::vector<int>& engines) const;

  // Fails task id as aborted if the scheduler holds it (waiting for dependencies, or released
  // or re-queued for a retry but not yet sent); false if it is not one of its queued tasks.
  // For rc.abort / ar.abort.
  bool abort_locked(MsgId id, const std::string& why);
  // client_main returned: every task still held or queued here fails as aborted.
  void abort_all_locked(const std::string& why);

  void fill_metadata_locked(MsgId id, TaskMetadata& m) const;
  // Drops what it keeps about a finished task (~100 bytes: attempts, engines tried, its job's
  // dependencies), for purge_results. Does nothing to a task that has not finished.
  void forget_locked(MsgId id);

 private:
  struct DepState {
    std::vector<MsgId> ids;
    bool all = true, success = true, failure = false;
    std::uint32_t met = 0, bad = 0;
    std::vector<int> engines;  // follow: engines where met tasks ran
    bool empty() const noexcept { return ids.empty(); }
    bool satisfied() const noexcept { return empty() || (all ? met == ids.size() : met > 0); }
    bool impossible() const noexcept { return !empty() && (all ? bad > 0 : bad == ids.size()); }
  };
  struct Job {
    std::shared_ptr<TaskSource> src;  // dropped once every task finished (it owns the inputs)
    MsgId first = 0;
    std::uint32_t ntasks = 0, unfinished = 0;
    DepState after, follow;
    std::int64_t deadline_ns = 0;  // steady clock; 0 = waits as long as it takes
    int retries = 0;
    std::vector<int> allowed;  // engines it may run on, fixed at release
    bool every = false;        // ... which were all the engines in service then
    bool released = false, dead = false;
  };
  struct TaskInfo {
    std::shared_ptr<Job> job;
    std::vector<int> tried;  // engines it was sent to, in order
  };
  struct Ready {
    std::shared_ptr<Job> job;
    std::uint32_t next, end;  // tasks [next, end) of the job's source
  };

  void task_done_locked(MsgId id);
  bool maybe_retry_locked(TaskRecord& rec, int engine, MsgId id, const char* items, std::size_t n);
  // Counts task id's outcome into a dependency; false if it does not involve id.
  void count_outcome(DepState& d, MsgId id, const TaskRecord& rec);
  void evaluate_locked(const std::shared_ptr<Job>& job);
  void release_locked(const std::shared_ptr<Job>& job);
  void fail_job_locked(Job& job, std::uint32_t from, std::uint32_t to, ErrorKind kind,
                       const std::string& why);
  bool place_locked(Ready& r);
  void audit_timeouts_locked();
  void refresh_fast() noexcept;

  ClientCore& core_;
  std::uint64_t run_;
  Placement placement_;
  bool fast_ = true;
  std::vector<char> retired_;  // per engine; empty while none is
  std::unordered_map<MsgId, std::vector<std::shared_ptr<Job>>> waiters_;
  std::unordered_map<MsgId, TaskInfo> tasks_;  // every task of a flagged source, kept for metadata
  std::size_t live_ = 0;                       // tasks of flagged sources not finished
  std::size_t with_retries_ = 0;               // ... of those, tasks whose job has retries
  std::vector<std::shared_ptr<Job>> held_;     // jobs admitted before release (some since gone)
  std::deque<Ready> ready_;
  using Deadline = std::pair<std::int64_t, std::shared_ptr<Job>>;
  struct Later {
    bool operator()(const Deadline& a, const Deadline& b) const { return a.first > b.first; }
  };
  std::priority_queue<Deadline, std::vector<Deadline>, Later> deadlines_;
  std::vector<MsgId> done_;  // finished tasks not yet counted (counting may finish more)
  bool counting_ = false;
};

}  // namespace mpiply::detail
