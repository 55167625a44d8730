#pragma once
// Teams: a task on k engines at once (TaskFlags::engines, docs/resources.md "Teams"). A team of
// k is k consecutive tasks of its batch, one per member; it is placed whole on k engines that
// are idle (no task outstanding), in ascending engine id, which is the team rank order. Idle,
// because every member must start the task at once: an engine that still had tasks queued
// could hold one member back while the others wait in a collective, and two teams queued in
// opposite orders on two engines would wait for each other for ever.
//
// The rule that keeps a team from waiting for ever behind one-engine tasks: the first team that
// finds too few idle engines becomes the holder. Each engine it may use that is idle, or goes
// idle later, is held for it (EngineIndex::hold: no other pick returns it) until it holds k,
// and then it is placed. Other tasks, one-engine or teams, use only engines not held. There is
// one holder at a time, so teams never each hold part of what they need; held engines are idle
// only while the holder waits for the rest of its k to finish what they run.
#include <memory>
#include <vector>

#include "scheduling/engine_index.hpp"
#include "scheduling/resource_claims.hpp"
#include "scheduling/scheduler_job.hpp"
#include "scheduling/task_records.hpp"

namespace mpiply::detail {

class TeamPlacer {
 public:
  TeamPlacer(SchedulerSink& sink, EngineIndex& index, ResourceClaims& claims,
             TaskRecords& tasks)
      : sink_(sink), index_(index), claims_(claims), tasks_(tasks) {}
  TeamPlacer(const TeamPlacer&) = delete;
  TeamPlacer& operator=(const TeamPlacer&) = delete;

  // The first msg id of the team that holds idle engines for itself while it waits (0: none),
  // and the engines it holds.
  MsgId holder() const noexcept { return holder_; }
  const std::vector<int>& held_engines() const noexcept { return engines_; }

  // Places r's teams while k usable engines are idle; false if some are left to wait.
  bool place(ReadyRun& r);
  // Engine e has no task outstanding: the holder takes it if it may run there and still lacks
  // some.
  void idle(int e);
  // The holder lets go of its engines (placed, failed, aborted, or an engine shut down).
  void end();
  // Ends the hold if the holder no longer waits (aborted or failed meanwhile).
  void end_if_gone();
  // The engines were reset: nobody holds any.
  void reset();

 private:
  SchedulerSink& sink_;
  EngineIndex& index_;
  ResourceClaims& claims_;
  TaskRecords& tasks_;
  MsgId holder_ = 0;
  std::shared_ptr<Job> job_;  // the holder's
  std::vector<int> engines_;  // held for it, in the order they went idle
};

}  // namespace mpiply::detail
