#pragma once
// Dependency: which earlier tasks a task waits for, as ipyparallel's Dependency. A task with
// `after` runs once its dependencies are met; with `follow` it also runs where they ran.
// all = every listed task must finish (false: any one); success / failure = which outcomes
// count as met. A dependency that can no longer be met fails the task with ImpossibleDependency.
#include <vector>

#include <mpiply/errors.hpp>

namespace mpiply {

struct Dependency {
  std::vector<MsgId> msg_ids;
  bool all = true;
  bool success = true;
  bool failure = false;
};

}  // namespace mpiply
