#pragma once
// What the hub's templates (Client::get_result<T>, StoredResult, resubmit<T>) reach in rank 0's
// task table (src/client/client_hub.cpp). Lock taken inside.
#include <memory>
#include <optional>
#include <typeinfo>
#include <vector>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/time.hpp>

namespace mpiply {
class Jobs;
}

namespace mpiply::detail {

// The msg ids jobs names (checked: known and not purged from the hub), as the Client's hub
// calls resolve them; what names the caller in errors.
std::vector<MsgId> resolve_jobs(ClientCore& core, const Jobs& jobs, const char* what);

// A fresh result state over the tasks `ids`, in that order, filled from the values the hub kept
// (and, for tasks still running, as their results arrive). UsageError if an id is unknown or
// purged, or if `type` is not the type of the tasks' values (what: the caller's name).
std::shared_ptr<ResultStateBase> hub_state(const std::shared_ptr<ClientCore>& core,
                                           const std::vector<MsgId>& ids,
                                           const std::type_info& type, const char* what);
// The same without a type check (an untyped handle: waiting, metadata, status).
std::shared_ptr<ResultStateBase> hub_state_untyped(const std::shared_ptr<ClientCore>& core,
                                                   const std::vector<MsgId>& ids,
                                                   const char* what);

template <class T>
std::shared_ptr<ResultState<T>> hub_typed_state(const std::shared_ptr<ClientCore>& core,
                                                const std::vector<MsgId>& ids, const char* what) {
  // hub_state checked that the tasks' state class holds values of type T: a ResultState<T>.
  return std::static_pointer_cast<ResultState<T>>(hub_state(core, ids, typeid(T), what));
}

// Runs the calls `ids` again under new msg ids; the new submission's state (type checked when
// given).
std::shared_ptr<ResultStateBase> hub_resubmit(const std::shared_ptr<ClientCore>& core,
                                              const std::vector<MsgId>& ids,
                                              const std::type_info* type);

// Aborts the tasks (see Client::abort); returns how many were still to start.
std::size_t core_abort(ClientCore& core, const std::vector<MsgId>& ids);
// Waits until none of the tasks is queued or running; false if the deadline passed first.
bool core_wait_ids(ClientCore& core, const std::vector<MsgId>& ids,
                   const std::optional<Deadline>& deadline);

}  // namespace mpiply::detail
