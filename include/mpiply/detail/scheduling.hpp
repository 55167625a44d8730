#pragma once
// What a LoadBalancedView asks of rank 0's scheduler before it submits (src/scheduling/scheduler.cpp):
// that its flags make sense for this run, so that bad input is a UsageError at the call site.
#include <vector>

#include <mpiply/task_flags.hpp>

namespace mpiply::detail {

class ClientCore;

// Checks retries, timeout, targets and the msg ids of after / follow (they must be tasks of this
// run); throws UsageError naming the problem. view_targets: the engines the view balances over.
// team: the call is apply_team, whose size (flags.engines) is checked against those engines.
void check_task_flags(ClientCore& core, const TaskFlags& flags,
                      const std::vector<int>& view_targets, const char* function,
                      bool team = false);

// Whether flags ask anything of the scheduler beyond plain load balancing.
inline bool has_scheduling_flags(const TaskFlags& f) noexcept {
  return f.after || f.follow || f.retries || f.timeout || f.targets || f.cores || f.gpus ||
         f.memory || !f.resources.empty() || f.priority || f.engines;
}

}  // namespace mpiply::detail
