// The task table's scans over every msg id it holds (task_table.hpp).
#include "hub/task_table.hpp"

namespace mpiply::detail {

std::vector<MsgId> TaskTable::hub_history_locked() const {
  std::vector<MsgId> out;
  for (MsgId id = base_; id < next_msg_locked(); ++id)
    if (!(record(id).hub & kRecordPurged)) out.push_back(id);
  return out;
}

std::vector<MsgId> TaskTable::outstanding_locked() const {
  std::vector<MsgId> out;
  for (MsgId id = base_; id < next_msg_locked(); ++id)
    if (!record_finished(record(id))) out.push_back(id);
  return out;
}

}  // namespace mpiply::detail
