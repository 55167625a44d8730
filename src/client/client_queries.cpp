// Questions asked of the task table: per-task metadata, whether messages have left rank 0, and
// the narrow interface (core.hpp) through which the templates reach the scheduler.
#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>

#include <mpiply/query.hpp>

#include "client/client_core.hpp"
#include "support/clock.hpp"
#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

TaskMetadata ClientCore::metadata_locked(MsgId id) const {
  const TaskRecord& r = known_record_locked(id, "metadata");
  TaskMetadata m;
  m.msg_id = id;
  m.run = db_ ? db_->run_id() : 0;
  m.engine_id = r.engine;
  m.status = r.status;
  // A push, pull, scatter, gather or clear calls no registered function: it is named by what it
  // does (its submission's name).
  std::uint64_t fn = fn_id_locked(id);
  m.function = fn != 0 ? function_name(fn) : store_.submission(id).fname;
  m.items = r.nitems;
  auto tp = [](std::int64_t ns) -> std::optional<TimePoint> {
    if (ns == 0) return std::nullopt;
    return to_time_point(ns);
  };
  TaskTimes t = records_.times(r);
  m.submitted = tp(submitted_locked(id));
  m.started = tp(t.started);
  m.completed = tp(t.completed);
  m.received = tp(t.received);
  if (r.engine >= 0) {
    const EngineInfo& info = engines_[r.engine];
    m.rank = info.rank;
    m.hostname = info.hostname;
    m.pid = info.pid;
  }
  m.thread = r.thread;
  m.reused = (r.hub & kReused) != 0;
  sched_.fill_metadata(id, m);
  m.error = first_error_locked(id);
  if (auto it = outputs_.find(id); it != outputs_.end()) {
    m.stdout = it->second.out;
    m.stderr = it->second.err;
  }
  m.usage = usage_.get(id - base_);
  return m;
}

std::vector<TaskMetadata> ClientCore::db_query_locked(const Query& q) {
  std::vector<TaskMetadata> out;
  for (MsgId id = base_; id < next_msg_locked(); ++id) {
    if (record(id).hub & kRecordPurged) continue;
    TaskMetadata m = metadata_locked(id);
    if (matches(q, m)) out.push_back(std::move(m));
  }
  return out;
}

bool ClientCore::sent_locked(MsgId first, std::uint32_t n) {
  for (MsgId id = first; id < first + n; ++id)
    if (!sent_locked(id)) return false;
  return true;
}

bool ClientCore::sent_locked(MsgId id) {
  {
    const TaskRecord& r = record(id);
    if (r.status == TaskStatus::queued) return false;
    if (r.status != TaskStatus::sent || inline_) return true;
    EngineSlot& s = slots_[r.engine];
    for (unsigned k = 0; k < s.count; ++k) {
      InFlight& f = s.ring[(s.head + k) % s.ring.size()];
      if (f.msg != id) continue;
      NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
      int done = 0;
      mpi_check(MPI_Test(&f.req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      mpi_check(MPI_Test(&f.big_req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      if (!f.seg_reqs.empty()) {
        mpi_check(MPI_Testall(static_cast<int>(f.seg_reqs.size()), f.seg_reqs.data(), &done,
                              MPI_STATUSES_IGNORE),
                  "MPI_Testall");
        if (!done) return false;
      }
    }
  }
  return true;
}

// The narrow interface of core.hpp.
std::mutex& core_mutex(ClientCore& core) { return core.mu; }
MsgId core_submit(ClientCore& core, std::shared_ptr<TaskSource> src) {
  return core.submit(std::move(src));
}
bool core_wait(ClientCore& core, WaitPred pred, const void* ctx,
               const std::optional<Deadline>& deadline) {
  return core.wait(pred, ctx, deadline);
}
std::vector<int> core_ids(const ClientCore& core) { return core.ids(); }
bool core_client_runs_tasks(const ClientCore& core) { return core.client_runs_tasks(); }

}  // namespace mpiply::detail
