#pragma once
// What the rest of src/client reaches on rank 0: one reference to each of ClientCore's
// components, bound once when ClientCore is built (client_core.hpp), so that the views' back
// end, AsyncResult, waits, the hub's questions and the drain go straight to the component they
// talk to. Every use but `engines` holds `mu`. Components that callers only read are const here.
#include <mutex>

#include "client/db_recorder.hpp"
#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "client/hub_cap.hpp"
#include "client/hub_queries.hpp"
#include "client/live_outputs.hpp"
#include "client/progress_driver.hpp"
#include "client/result_handler.hpp"
#include "client/task_aborts.hpp"
#include "client/task_queues.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

struct Rank0 {
  // The client lock: the user's thread while it waits on a result, and the progress thread
  // while it does not, both drive rank 0 under it.
  std::mutex& mu;
  const EngineRoster& engines;
  TaskTable& table;
  // Live output and published data (docs/output.md).
  LiveOutputs& live;
  const HubCap& cap;
  EngineLinks& links;
  const TaskQueues& queues;
  TaskAborts& aborts;
  ResultHandler& results;
  DbRecorder& db;
  HubQueries& hub;
  ProgressDriver& progress;
  // Flags, dependencies, retries, schemes, engines in service (scheduler.hpp).
  const Scheduler& scheduler;
};

}  // namespace mpiply::detail
