#pragma once
// Options of map and imap: how many items travel per message, whether iteration yields results
// in input order or as they arrive, how many items imap keeps on engines, and flags for this
// call only (LoadBalancedView: after, follow,
// retries, timeout, targets; see task_flags.hpp), on top of the view's own.
#include <mpiply/task_flags.hpp>

namespace mpiply {

struct MapOptions {
  long chunksize = 1;  // items per task message; must be at least 1
  bool ordered = true;
  TaskFlags flags{};   // e.g. {.chunksize = 8, .flags = {.after = ar, .retries = 2}}
  // imap only (imap.hpp): items submitted and not yet back; 0: 8 chunks per engine. A map
  // submits every item at once, so a nonzero value there is a UsageError.
  long max_outstanding = 0;
};

// imap's options are map's: {.chunksize, .ordered, .flags, .max_outstanding}.
using ImapOptions = MapOptions;

}  // namespace mpiply
