// Client: engine ids, views, and job-wide waiting and history.
#include <mpiply/client.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "client_core.hpp"

namespace mpiply {

std::vector<int> Client::ids() const { return core_->ids(); }
std::size_t Client::size() const { return core_->num_engines(); }
bool Client::inline_mode() const { return core_->inline_mode(); }
int Client::hwm() const { return core_->hwm(); }

int Client::check_id(int id) const {
  int n = static_cast<int>(core_->num_engines());
  int e = id < 0 ? id + n : id;
  if (e < 0 || e >= n)
    throw UsageError(fmt::format("engine {} does not exist: this job has engines 0..{} ({} "
                                 "ranks); launch with more ranks for more engines",
                                 id, n - 1, core_->num_ranks()));
  return e;
}

EngineView Client::operator[](int id) const { return EngineView(core_, check_id(id)); }

DirectView Client::direct_view() const { return DirectView(core_, ids()); }
DirectView Client::direct_view(int id) const { return DirectView(core_, {check_id(id)}); }

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
    std::lock_guard lk(core_->mu);
    if (core_->idle_locked()) return true;
  }
  return core_->wait(
      [](const void* c) { return static_cast<const detail::ClientCore*>(c)->idle_locked(); },
      core_.get(), deadline);
}

std::vector<MsgId> Client::history() const {
  std::lock_guard lk(core_->mu);
  std::vector<MsgId> out;
  for (MsgId id = core_->base_locked(); id < core_->next_msg_locked(); ++id) out.push_back(id);
  return out;
}

std::vector<MsgId> Client::outstanding() const {
  std::lock_guard lk(core_->mu);
  std::vector<MsgId> out;
  for (MsgId id = core_->base_locked(); id < core_->next_msg_locked(); ++id) {
    auto s = core_->record(id).status;
    if (s == TaskStatus::queued || s == TaskStatus::sent) out.push_back(id);
  }
  return out;
}

TaskMetadata Client::metadata(MsgId id) const {
  std::lock_guard lk(core_->mu);
  return core_->metadata_locked(id);
}

}  // namespace mpiply
