#pragma once
// Where a released run's tasks go: the engines as the scheduler places on them. It owns the
// engine index, the scheme's picker, the tasks' resource claims and the team holds (each a
// component in the file of its name) and keeps them in step when engines change (reset, load,
// shut-down). It places a run's one-engine tasks itself (place): by the scheme, never back on an
// engine the task failed on, by best fit when it has claims; a team's run goes to TeamPlacer.
// A task with nowhere left to go fails here (ImpossibleDependency), saying why.
#include <cstdint>
#include <vector>

#include <mpiply/run_options.hpp>

#include "scheduling/engine_index.hpp"
#include "scheduling/engine_picker.hpp"
#include "scheduling/resource_claims.hpp"
#include "scheduling/scheduler_job.hpp"
#include "scheduling/task_records.hpp"
#include "scheduling/team_placer.hpp"
#include "scheduling/window_policy.hpp"

namespace mpiply::detail {

class TaskPlacer {
 public:
  TaskPlacer(SchedulerSink& sink, TaskRecords& tasks, Scheme scheme)
      : sink_(sink), tasks_(tasks), picker_(index_, scheme), teams_(sink, index_, claims_, tasks) {}
  TaskPlacer(const TaskPlacer&) = delete;
  TaskPlacer& operator=(const TaskPlacer&) = delete;

  // n engines 0..n-1, in service at load 0, each taking up to hwm tasks (deeper, up to deep,
  // while its tasks run briefly: window_policy.hpp) and holding one core and nothing else until
  // set_resources says what it holds.
  void reset(std::size_t n, unsigned hwm, unsigned deep);
  void set_resources(int e, const EngineResources& r) { claims_.set(e, r); }
  // Engine e now holds `outstanding` tasks; true if that is fewer than before (room appeared).
  bool set_load(int e, unsigned outstanding);
  // A task of engine e ran ran_ns (negative: not known); true if that widened e's window.
  bool ran(int e, std::int64_t ran_ns);
  // These engines take no more tasks.
  void retire(const std::vector<int>& engines);

  const EngineStates& engines() const noexcept { return index_.states(); }
  const ResourceClaims& claims() const noexcept { return claims_; }
  const TeamPlacer& teams() const noexcept { return teams_; }
  EnginePicker& picker() noexcept { return picker_; }

  // Whether a waiting run may find an engine now: one has room, or a team holds some.
  bool room() const noexcept { return index_.any_room() || teams_.holder() != 0; }
  // Ends the reservation and the team hold of tasks that no longer wait.
  void tidy();
  // Places tasks of r while an engine it may use has room; false if some are left.
  bool place(ReadyRun& r);
  // Task id's run ended: its claimed amounts are free again. True if it held some.
  bool give_back(MsgId id) { return claims_.holding() && claims_.give_back(id); }
  // The team holder (if any) lets go of its engines.
  void end_hold() {
    if (teams_.holder() != 0) teams_.end();
  }

 private:
  SchedulerSink& sink_;
  TaskRecords& tasks_;
  EngineIndex index_;
  WindowPolicy windows_;
  EnginePicker picker_;
  ResourceClaims claims_;
  TeamPlacer teams_;
};

}  // namespace mpiply::detail
