// Placing tasks with resource claims: best fit, grants and the reservation (resource_claims.hpp).
#include "scheduling/resource_claims.hpp"

#include <algorithm>
#include <tuple>

namespace mpiply::detail {

void ResourceClaims::reset(std::size_t n) {
  pool_.reset(n);
  grants_.clear();
  reserve_ = {};
}

std::string ResourceClaims::never_fits(const ResourceRequest& r,
                                       const std::vector<int>& engines) const {
  if (!r.has_claims()) return {};
  std::vector<int> all;
  if (engines.empty())
    for (std::size_t e = 0; e < pool_.size(); ++e) all.push_back(static_cast<int>(e));
  return pool_.never_fits(r, engines.empty() ? all : engines);
}

int ResourceClaims::fit(const Job& job, const TaskInfo& ti, MsgId id,
                        const EngineStates& engines) const {
  const ResourceRequest& req = job.resources;
  // The engine reserved for an earlier task is not for those behind it.
  auto behind = [&] {
    if (job.priority != reserve_.priority) return job.priority < reserve_.priority;
    return job.seq != reserve_.seq ? job.seq > reserve_.seq : id > reserve_.id;
  };
  int best = -1;
  unsigned best_cores = 0, best_gpus = 0, best_load = 0;
  for (int c : job.allowed) {
    if (!engines.has_room(c) || !pool_.fits(c, req)) continue;
    if (std::find(ti.tried.begin(), ti.tried.end(), c) != ti.tried.end()) continue;
    if (c == reserve_.engine && id != reserve_.id && behind()) continue;
    unsigned cores = pool_.free_cores(c) - req.cores, gpus = pool_.free_gpus(c) - req.gpus;
    unsigned load = engines.load(c);
    if (best < 0 || std::tie(cores, gpus, load) < std::tie(best_cores, best_gpus, best_load)) {
      best = c;
      best_cores = cores;
      best_gpus = gpus;
      best_load = load;
    }
  }
  return best;
}

Grant ResourceClaims::take(int e, MsgId id, const std::shared_ptr<Job>& job) {
  Grant g = pool_.take(e, job->resources);
  grants_[id] = {e, g, job};
  if (reserve_.id == id) reserve_ = {};
  return g;
}

bool ResourceClaims::give_back(MsgId id) {
  auto it = grants_.find(id);
  if (it == grants_.end()) return false;
  pool_.give_back(it->second.engine, it->second.job->resources, it->second.grant);
  grants_.erase(it);
  return true;
}

}  // namespace mpiply::detail
