// The engines rank 0 serves (engine_roster.hpp): rank 0's own engine added to the list.
#include "client/engine_roster.hpp"

#include <unistd.h>

#include <algorithm>

#include "runtime/inventory.hpp"

namespace mpiply::detail {

EngineRoster::EngineRoster(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm, int deepest,
                           bool client_runs_tasks)
    : comm_(comm), engines_(std::move(engines)), inline_(engines_.empty()), hwm_(hwm),
      deepest_(std::max(hwm, deepest)),
      mpi_engines_(static_cast<int>(engines_.size())) {
  // With one rank the inline engine already runs every task on rank 0.
  if (client_runs_tasks && !inline_) {
    local_id_ = mpi_engines_;
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid()), local_inventory()});
  }
  if (inline_)
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid()), local_inventory()});
}

std::vector<int> EngineRoster::ids() const {
  std::vector<int> v(engines_.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i);
  return v;
}

}  // namespace mpiply::detail
