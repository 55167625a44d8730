#pragma once
// Rank 0's task table: one record per task (record_table.hpp), the values the hub keeps
// (result_store.hpp), the submissions and who receives each result (submission_table.hpp), and
// what capture brought back (capture_table.hpp), all by msg id. It owns them and maps msg ids to
// their indices; callers reach each through its accessor. Every member is used with the client
// lock (ClientCore::mu) held. Purge, resolve and the other hub questions are HubQueries'
// (client/hub_queries.hpp); giving records back is the HubCap's (client/hub_cap.hpp).
#include <cstdint>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "hub/capture_table.hpp"
#include "hub/record_table.hpp"
#include "hub/result_store.hpp"
#include "hub/submission_table.hpp"

namespace mpiply::detail {

class TaskTable {
 public:
  TaskTable() = default;
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  TaskRecord& record(MsgId id) { return records_[id - base_]; }
  const TaskRecord& record(MsgId id) const { return records_[id - base_]; }
  TaskTimes times_locked(MsgId id) const { return records_.times(record(id)); }
  MsgId next_msg_locked() const { return base_ + records_.size(); }
  MsgId base_locked() const { return base_; }
  // Why a msg id of this run is no longer in the hub (record_table.hpp's Gone).
  Gone gone_locked(MsgId id) const { return records_.gone(id - base_); }
  // The msg ids the hub still holds, and those queued or running, oldest first.
  std::vector<MsgId> hub_history_locked() const;
  std::vector<MsgId> outstanding_locked() const;

  RecordTable& records() noexcept { return records_; }
  const RecordTable& records() const noexcept { return records_; }
  ResultStore& store() noexcept { return store_; }
  const ResultStore& store() const noexcept { return store_; }
  SubmissionTable& submissions() noexcept { return submissions_; }
  const SubmissionTable& submissions() const noexcept { return submissions_; }
  // By msg id - base.
  CaptureTable& capture() noexcept { return capture_; }
  const CaptureTable& capture() const noexcept { return capture_; }

 private:
  RecordTable records_;
  MsgId base_ = 0;
  ResultStore store_{records_};
  SubmissionTable submissions_;
  CaptureTable capture_;
};

}  // namespace mpiply::detail
