// The hub on a view: its history, waiting for it, aborting tasks, reading kept results.
#include <mpiply/detail/hub_access.hpp>
#include <mpiply/detail/view_base.hpp>

namespace mpiply::detail {

std::vector<MsgId> ViewBase::history() const { return history_->ids(); }

bool ViewBase::wait(std::optional<Seconds> timeout) const {
  std::optional<Deadline> deadline;
  if (timeout) deadline = deadline_after(*timeout);
  return core_wait_ids(*core_, history(), deadline);
}

std::size_t ViewBase::abort() const { return core_abort(*core_, history()); }

std::size_t ViewBase::abort(const Jobs& jobs) const {
  return core_abort(*core_, resolve_jobs(*core_, jobs, "abort"));
}

AsyncResultBase ViewBase::get_result(const Jobs& jobs) const {
  return AsyncResultBase(
      hub_state_untyped(core_, resolve_jobs(*core_, jobs, "get_result"), "get_result"));
}

}  // namespace mpiply::detail
