// Client: engine ids, views, and job-wide waiting and history.
#include <mpiply/client.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "client/client_core.hpp"

namespace mpiply {

std::vector<int> Client::ids() const {
  std::lock_guard lk(core_->rank0().mu);
  const detail::EngineStates& ix = core_->rank0().scheduler.placer().engines();
  std::vector<int> v;
  v.reserve(ix.in_service_count());
  for (std::size_t e = 0; e < ix.size(); ++e)
    if (ix.in_service(static_cast<int>(e))) v.push_back(static_cast<int>(e));
  return v;
}
std::size_t Client::size() const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().scheduler.placer().engines().in_service_count();
}
bool Client::inline_mode() const { return core_->rank0().engines.inline_mode(); }
int Client::hwm() const { return core_->rank0().engines.hwm(); }
const EngineResources& Client::engine_resources(int id) const {
  int n = static_cast<int>(core_->rank0().engines.num_engines());
  if (id < 0 || id >= n)
    throw UsageError(fmt::format("engine_resources({}): no such engine; this job has engines "
                                 "0..{}",
                                 id, n - 1));
  return core_->rank0().engines.engine_info(id).resources;
}

int Client::check_id(int id) const {
  int n = static_cast<int>(core_->rank0().engines.num_engines());
  if (id < 0) {  // from the end of ids(), as ipyparallel indexes its list of engine ids
    std::vector<int> in_service = ids();
    int k = static_cast<int>(in_service.size());
    if (id + k < 0)
      throw UsageError(fmt::format("engine {} does not exist: this job has {} engines in service "
                                   "({}); a negative index counts back from the last of them",
                                   id, k, fmt::join(in_service, ", ")));
    return in_service[static_cast<std::size_t>(id + k)];
  }
  if (id >= n)
    throw UsageError(fmt::format("engine {} does not exist: this job has engines 0..{} ({} "
                                 "ranks); launch with more ranks for more engines",
                                 id, n - 1, core_->rank0().engines.num_ranks()));
  std::lock_guard lk(core_->rank0().mu);
  if (!core_->rank0().scheduler.placer().engines().in_service(id))
    throw UsageError(fmt::format("engine {} was shut down (Client::shutdown) and runs no more "
                                 "tasks; use an engine of rc.ids()",
                                 id));
  return id;
}

std::vector<int> Client::all_in_service(const char* what) const {
  std::vector<int> v = ids();
  if (v.empty())
    throw UsageError(fmt::format("{}: every engine of this job was shut down (Client::shutdown); "
                                 "no engine is left to run tasks",
                                 what));
  return v;
}

EngineView Client::engine(int id) const { return EngineView(core_, check_id(id)); }

void Client::engine_id_out_of_range(long long id) {
  throw UsageError(fmt::format("engine {} does not exist: engine ids are ints from 0 (or "
                               "negative, counting from the end)",
                               id));
}

DirectView Client::direct_view() const {
  return DirectView(core_, all_in_service("direct_view"));
}
DirectView Client::direct_view_of(int id) const { return DirectView(core_, {check_id(id)}); }

void Client::clear() const { direct_view().clear(); }

void Client::clear(const std::vector<int>& targets) const { (*this)[targets].clear(); }

LoadBalancedView Client::load_balanced_view() const { return LoadBalancedView(core_, ids()); }

LoadBalancedView Client::load_balanced_view(const std::vector<int>& ids) const {
  std::vector<int> t;
  for (int id : ids) t.push_back(check_id(id));
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  if (t.empty())
    throw UsageError("load_balanced_view({}): a view needs at least one engine id");
  bool subset = t != this->ids();
  return LoadBalancedView(core_, std::move(t), subset);
}

DirectView Client::operator[](const std::vector<int>& ids) const {
  if (ids.empty()) throw UsageError("client[{}]: a DirectView needs at least one engine id");
  std::vector<int> t;
  for (int id : ids) t.push_back(check_id(id));
  return DirectView(core_, std::move(t));
}

bool Client::wait(std::optional<Seconds> timeout) const {
  std::optional<Deadline> deadline;
  if (timeout) deadline = deadline_after(*timeout);
  {
    std::lock_guard lk(core_->rank0().mu);
    if (core_->rank0().queues.idle()) return true;
  }
  return core_->wait(
      [](const void* c) {
        return static_cast<const detail::ClientCore*>(c)->rank0().queues.idle();
      },
      core_.get(), deadline);
}

std::vector<MsgId> Client::history() const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().table.hub_history_locked();
}

std::vector<MsgId> Client::outstanding() const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().table.outstanding_locked();
}

TaskMetadata Client::metadata_of(MsgId id) const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().hub.metadata_locked(id);
}

// ---- the hub -----------------------------------------------------------------------------------

std::vector<MsgId> Client::resolve(const Jobs& jobs, const char* what) const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().hub.resolve_locked(jobs, what);
}

bool Client::wait(const Jobs& jobs, std::optional<Seconds> timeout) const {
  std::optional<Deadline> deadline;
  if (timeout) deadline = deadline_after(*timeout);
  return detail::core_wait_ids(*core_, resolve(jobs, "wait"), deadline);
}

std::size_t Client::abort() const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  std::vector<MsgId> ids;
  for (MsgId id = r.table.base_locked(); id < r.table.next_msg_locked(); ++id)
    if (!detail::record_finished(r.table.record(id))) ids.push_back(id);
  return r.aborts.abort_locked(ids);
}

std::size_t Client::abort(const Jobs& jobs) const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  return r.aborts.abort_locked(r.hub.resolve_locked(jobs, "abort"));
}

AsyncResultBase Client::get_result(const Jobs& jobs) const {
  return AsyncResultBase(
      detail::hub_state_untyped(core_, resolve(jobs, "get_result"), "get_result"));
}

std::map<MsgId, StoredResult> Client::results() const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  return r.hub.results_locked(core_, r.table.hub_history_locked(), true);
}

std::map<MsgId, TaskMetadata> Client::metadata() const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  std::map<MsgId, TaskMetadata> out;
  // As ipyparallel's Client.metadata: a task purged locally is gone from it (its record stays
  // in the hub: metadata(id), db_query, hub_history).
  for (MsgId id : r.table.hub_history_locked())
    if (!(r.table.record(id).hub & detail::kValuesPurged))
      out.emplace(id, r.hub.metadata_locked(id));
  return out;
}

ResultStatus Client::result_status(const Jobs& jobs, bool status_only) const {
  const detail::Rank0& r = core_->rank0();
  std::lock_guard lk(r.mu);
  ResultStatus rs;
  std::vector<MsgId> ids = r.hub.resolve_locked(jobs, "result_status");
  for (MsgId id : ids)
    (detail::record_finished(r.table.record(id)) ? rs.completed : rs.pending).push_back(id);
  if (!status_only) rs.results = r.hub.results_locked(core_, rs.completed);
  return rs;
}

QueueStatus Client::queue_status(const std::vector<int>& targets, bool verbose) const {
  std::vector<int> t;
  for (int id : targets) t.push_back(check_id(id));
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().hub.queue_status_locked(t, verbose);
}

namespace {
// As ipyparallel's purge_local_results('all'): dropping every kept value while some are still on
// their way would leave their handles' owners without get_result or results(), so the whole
// purge is refused. (purge_hub_results(all) skips outstanding tasks, as ipyparallel's hub does.)
void refuse_outstanding_locked(const detail::ClientCore& core, const Jobs& jobs,
                               const char* what) {
  if (!jobs.all()) return;
  std::vector<MsgId> out = core.rank0().table.outstanding_locked();
  if (out.empty()) return;
  std::size_t shown = std::min<std::size_t>(out.size(), 8);
  throw UsageError(fmt::format(
      "{}: can't purge outstanding tasks: msg ids {}{}; wait for them (or abort them) first, or "
      "use purge_hub_results(mpiply::all), which skips them. Nothing was purged",
      what, fmt::join(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
      out.size() > shown ? fmt::format(" and {} more", out.size() - shown) : std::string()));
}
}  // namespace

void Client::purge_results(const Jobs& jobs, const std::vector<int>& targets) const {
  std::lock_guard lk(core_->rank0().mu);
  refuse_outstanding_locked(*core_, jobs, "purge_results");
  core_->rank0().hub.purge_locked(jobs, targets, true, true, "purge_results");
}

void Client::purge_local_results(const Jobs& jobs, const std::vector<int>& targets) const {
  std::lock_guard lk(core_->rank0().mu);
  refuse_outstanding_locked(*core_, jobs, "purge_local_results");
  core_->rank0().hub.purge_locked(jobs, targets, true, false, "purge_local_results");
}

void Client::purge_hub_results(const Jobs& jobs, const std::vector<int>& targets) const {
  std::lock_guard lk(core_->rank0().mu);
  core_->rank0().hub.purge_locked(jobs, targets, true, true, "purge_hub_results");
}

void Client::purge_everything() const {
  std::lock_guard lk(core_->rank0().mu);
  refuse_outstanding_locked(*core_, Jobs(all), "purge_everything");
  core_->rank0().hub.purge_locked(Jobs(all), {}, true, true, "purge_everything");
}

AsyncResultBase Client::resubmit(const Jobs& jobs) const {
  return AsyncResultBase(detail::hub_resubmit(core_, resolve(jobs, "resubmit"), nullptr));
}

std::vector<MsgId> Client::hub_history() const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().table.hub_history_locked();
}


std::size_t Client::results_bytes() const {
  std::lock_guard lk(core_->rank0().mu);
  return core_->rank0().table.store().bytes_held();
}

}  // namespace mpiply
