#pragma once
// Options of map: how many items travel per message, whether iteration yields results in input
// order or as they arrive, and flags for this call only (LoadBalancedView: after, follow,
// retries, timeout, targets; see task_flags.hpp), on top of the view's own.
#include <mpiply/task_flags.hpp>

namespace mpiply {

struct MapOptions {
  long chunksize = 1;  // items per task message; must be at least 1
  bool ordered = true;
  TaskFlags flags{};   // e.g. {.chunksize = 8, .flags = {.after = ar, .retries = 2}}
};

}  // namespace mpiply
