// The library's side of <mpiply/detail/hub_access.hpp>: what the public AsyncResult and views
// ask rank 0's core about the hub (records, resubmit, abort, waits on msg ids), each under the
// client lock.
#include <mpiply/detail/hub_access.hpp>

#include "client/client_core.hpp"

namespace mpiply::detail {

std::shared_ptr<ResultStateBase> hub_state(const std::shared_ptr<ClientCore>& core,
                                           const std::vector<MsgId>& ids,
                                           const std::type_info& type, const char* what) {
  std::lock_guard lk(core->rank0().mu);
  return core->rank0().hub.hub_state_locked(core, ids, &type, what);
}

std::shared_ptr<ResultStateBase> hub_state_untyped(const std::shared_ptr<ClientCore>& core,
                                                   const std::vector<MsgId>& ids,
                                                   const char* what) {
  std::lock_guard lk(core->rank0().mu);
  return core->rank0().hub.hub_state_locked(core, ids, nullptr, what);
}

std::shared_ptr<ResultStateBase> hub_resubmit(const std::shared_ptr<ClientCore>& core,
                                              const std::vector<MsgId>& ids,
                                              const std::type_info* type) {
  std::shared_ptr<TaskSource> src;
  {
    std::lock_guard lk(core->rank0().mu);
    src = core->rank0().hub.resubmit_source_locked(core, ids, type);
  }
  std::shared_ptr<ResultStateBase> st = src->state;
  core->submit(std::move(src));
  return st;
}

std::vector<MsgId> resolve_jobs(ClientCore& core, const Jobs& jobs, const char* what) {
  std::lock_guard lk(core.rank0().mu);
  return core.rank0().hub.resolve_locked(jobs, what);
}

std::size_t core_abort(ClientCore& core, const std::vector<MsgId>& ids) {
  std::lock_guard lk(core.rank0().mu);
  return core.rank0().aborts.abort_locked(ids);
}

namespace {
struct WaitIds {
  const ClientCore* core;
  const std::vector<MsgId>* ids;
  mutable std::size_t done = 0;  // ids before this one have finished (they never unfinish)
};
}  // namespace

bool core_wait_ids(ClientCore& core, const std::vector<MsgId>& ids,
                   const std::optional<Deadline>& deadline) {
  {
    std::lock_guard lk(core.rank0().mu);
    for (MsgId id : ids) core.rank0().hub.known_record_locked(id, "wait");
  }
  WaitIds ctx{&core, &ids};
  return core.wait(
      [](const void* c) {
        auto* w = static_cast<const WaitIds*>(c);
        while (w->done < w->ids->size() &&
               record_finished(w->core->rank0().table.record((*w->ids)[w->done])))
          ++w->done;
        return w->done == w->ids->size();
      },
      &ctx, deadline);
}

}  // namespace mpiply::detail
