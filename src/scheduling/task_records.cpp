// The scheduler's per-task records of flagged submissions (task_records.hpp).
#include "scheduling/task_records.hpp"

namespace mpiply::detail {

void TaskRecords::add(const std::shared_ptr<Job>& job) {
  for (std::uint32_t t = 0; t < job->ntasks; ++t) tasks_[job->first + t].job = job;
  live_ += job->ntasks;
  if (job->retries > 0) with_retries_ += job->ntasks;
}

TaskInfo* TaskRecords::find(MsgId id) {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : &it->second;
}

const TaskInfo* TaskRecords::find(MsgId id) const {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : &it->second;
}

void TaskRecords::finished(MsgId id) {
  if (live_ == 0) return;
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Job& job = *it->second.job;
  --live_;
  if (job.retries > 0) --with_retries_;
  if (--job.unfinished == 0) job.source.reset();
}

void TaskRecords::fill_metadata(MsgId id, TaskMetadata& m) const {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) {
    if (m.engine_id >= 0) {
      m.attempts = 1;
      m.engines_tried = {m.engine_id};
    }
    return;
  }
  const TaskInfo& ti = it->second;
  m.attempts = static_cast<int>(ti.tried.size());
  m.engines_tried = ti.tried;
  m.after = ti.job->after.ids;
  m.follow = ti.job->follow.ids;
}

void TaskRecords::forget(MsgId id) {
  auto it = tasks_.find(id);
  if (it != tasks_.end() && is_finished(sink_.outcome(id).status)) tasks_.erase(it);
}

}  // namespace mpiply::detail
