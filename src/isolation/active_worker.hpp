#pragma once
// The worker process an Isolation hands its tasks to, over the worker's successive lives: forked
// when a task needs one, kept while it serves the engine as the engine is, dropped when it died,
// ran past a time limit, or holds a namespace that is out of date. It also paces the look for a
// death (a system call) and says when the oldest running task's time limit falls due.
#include <cstdint>
#include <memory>
#include <string>

#include <mpiply/engine.hpp>

#include "isolation/worker_process.hpp"

namespace mpiply::detail {

class ActiveWorker {
 public:
  explicit ActiveWorker(unsigned depth);  // ring slots of each worker forked

  bool present() const noexcept { return proc_ != nullptr; }
  WorkerProcess& process() noexcept { return *proc_; }      // only when present()
  RingEngineEnd& ring() noexcept { return proc_->ring(); }  // only when present()
  // Before tasks are posted for eng: drops an idle worker that is out of date or leaving, and
  // forks one when there is none. False when none may take tasks now: the one leaving still has
  // tasks in flight, or the fork failed (start_error() says why).
  bool ready_for(Engine& eng, std::int64_t clock_offset_ns);
  const std::string& start_error() const noexcept { return start_error_; }
  // After a reply flagged kNamespaceChanged: the worker leaves by itself before its next task,
  // so nothing more is posted to it.
  void leave() noexcept { leaving_ = true; }
  void drop();  // kills and reaps it unless it was reaped
  // Whether to look for its death now: after a wait, while it leaves, and otherwise every so
  // many polls without progress.
  bool death_check_due() noexcept;
  void look_for_death() noexcept { look_for_death_ = true; }
  // When the oldest task in flight, if it started and has this time limit, must be answered
  // (CLOCK_MONOTONIC ns); 0 if not started or no limit.
  std::int64_t deadline(std::uint32_t time_limit_ms);

 private:
  unsigned depth_;
  std::unique_ptr<WorkerProcess> proc_;
  bool leaving_ = false;  // a task changed its namespace: it leaves, post nothing
  bool look_for_death_ = false;
  unsigned idle_polls_ = 0;
  std::string start_error_;  // why the last fork failed
};

}  // namespace mpiply::detail
