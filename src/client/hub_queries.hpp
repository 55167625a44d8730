#pragma once
// The hub's questions and housekeeping on rank 0's task table: msg ids checked and resolved,
// results rebuilt from the kept values (get_result, results), metadata, queue status, purge,
// resubmit. Lock held throughout.
#include <map>
#include <memory>
#include <typeinfo>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>
#include <mpiply/hub.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/query.hpp>

#include "client/engine_links.hpp"
#include "client/engine_roster.hpp"
#include "client/hub_cap.hpp"
#include "hub/task_table.hpp"
#include "scheduling/scheduler.hpp"

namespace mpiply::detail {

class ClientCore;
class DbRecorder;
class ResultHandler;

class HubQueries {
 public:
  // The references outlive this (ClientCore owns all of them).
  HubQueries(const EngineRoster& roster, TaskTable& table, HubCap& cap, const DbRecorder& db,
             ResultHandler& results, const EngineLinks& links, const Scheduler& sched)
      : roster_(roster), table_(table), cap_(cap), db_(db), results_(results), links_(links),
        sched_(sched) {}
  HubQueries(const HubQueries&) = delete;
  HubQueries& operator=(const HubQueries&) = delete;

  // A msg id that is not in the table, or was purged from the hub, is a UsageError naming
  // `what`.
  const TaskRecord& known_record_locked(MsgId id, const char* what) const;
  // The msg ids jobs names (history positions resolved, all = every task the hub knows).
  std::vector<MsgId> resolve_locked(const Jobs& jobs, const char* what) const;
  TaskMetadata metadata_locked(MsgId id) const;
  std::vector<TaskMetadata> db_query_locked(const Query& q);
  // self: the core the new result state belongs to.
  std::shared_ptr<ResultStateBase> hub_state_locked(const std::shared_ptr<ClientCore>& self,
                                                    const std::vector<MsgId>& ids,
                                                    const std::type_info* type,
                                                    const char* what);
  // With skip_taken, tasks whose owning handle fetched the result are left out (results()).
  std::map<MsgId, StoredResult> results_locked(const std::shared_ptr<ClientCore>& self,
                                               const std::vector<MsgId>& ids,
                                               bool skip_taken = false);
  QueueStatus queue_status_locked(const std::vector<int>& targets, bool verbose) const;
  // purge: local = the kept values (and sources), hub = the records themselves.
  void purge_locked(const Jobs& jobs, const std::vector<int>& targets, bool local, bool hub,
                    const char* what);
  // A new submission running the same calls as ids, with new msg ids.
  std::shared_ptr<TaskSource> resubmit_source_locked(const std::shared_ptr<ClientCore>& self,
                                                     const std::vector<MsgId>& ids,
                                                     const std::type_info* type);

 private:
  const EngineRoster& roster_;
  TaskTable& table_;
  HubCap& cap_;
  const DbRecorder& db_;
  ResultHandler& results_;
  const EngineLinks& links_;
  const Scheduler& sched_;
};

}  // namespace mpiply::detail
