#pragma once
// Rank 0's task table: one record per task (record_table.hpp), the values the hub keeps
// (result_store.hpp), captured output and resource use, and which results their owning handle
// fetched, all by msg id. Every member is used with the client lock (ClientCore::mu) held.
// Purge, resolve and the other hub questions are HubQueries' (client/hub_queries.hpp); giving
// records back is the HubCap's (client/hub_cap.hpp).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/result_state.hpp>

#include "hub/record_table.hpp"
#include "hub/result_store.hpp"
#include "hub/usage_table.hpp"

namespace mpiply::detail {

class TaskTable {
 public:
  // Captured output (MPIPLY_CAPTURE) of a task that wrote any.
  struct TaskOutput {
    std::string out, err;
  };

  TaskTable() = default;
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  TaskRecord& record(MsgId id) { return records_[id - base_]; }
  const TaskRecord& record(MsgId id) const { return records_[id - base_]; }
  TaskTimes times_locked(MsgId id) const { return records_.times(record(id)); }
  std::int64_t submitted_locked(MsgId id) const { return store_.submission(id).submitted; }
  std::uint64_t fn_id_locked(MsgId id) const { return store_.submission(id).fn_id; }
  MsgId next_msg_locked() const { return base_ + records_.size(); }
  MsgId base_locked() const { return base_; }
  static bool finished(const TaskRecord& r) {
    return r.status != TaskStatus::queued && r.status != TaskStatus::sent;
  }
  // Why a msg id of this run is no longer in the hub (record_table.hpp's Gone).
  Gone gone_locked(MsgId id) const { return records_.gone(id - base_); }
  // The msg ids the hub still holds, and those queued or running, oldest first.
  std::vector<MsgId> hub_history_locked() const;
  std::vector<MsgId> outstanding_locked() const;
  // A handle that owns these tasks' results fetched them (AsyncResult::get).
  void mark_taken_locked(const ResultStateBase& st);
  bool taken_locked(MsgId id) const {
    return id - base_ < taken_.size() && taken_[id - base_];
  }

  RecordTable& records() noexcept { return records_; }
  const RecordTable& records() const noexcept { return records_; }
  ResultStore& store() noexcept { return store_; }
  const ResultStore& store() const noexcept { return store_; }
  // Resource use of every task that carried it, by msg id - base (no map entry per silent task).
  UsageTable& usage() noexcept { return usage_; }
  const UsageTable& usage() const noexcept { return usage_; }
  // By msg id, only for tasks that wrote output.
  std::unordered_map<MsgId, TaskOutput>& outputs() noexcept { return outputs_; }
  const std::unordered_map<MsgId, TaskOutput>& outputs() const noexcept { return outputs_; }

 private:
  RecordTable records_;
  std::unordered_map<MsgId, TaskOutput> outputs_;
  UsageTable usage_;
  MsgId base_ = 0;
  // By msg id - base_: the owning handle fetched the task's result (results() leaves it out).
  std::vector<bool> taken_;
  ResultStore store_{records_};
};

}  // namespace mpiply::detail
