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
    if (!finished(record(id))) out.push_back(id);
  return out;
}

void TaskTable::mark_taken_locked(const ResultStateBase& st) {
  for (std::uint32_t k = 0; k < st.ntasks; ++k) {
    MsgId id = st.msg(k);
    if (id < base_) continue;
    if (id - base_ >= taken_.size()) taken_.resize(id - base_ + 1, false);
    taken_[id - base_] = true;
  }
}

}  // namespace mpiply::detail
