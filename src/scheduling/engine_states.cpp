// Each engine's load, service and hold as the scheduler counts them (engine_states.hpp).
#include "scheduling/engine_states.hpp"

#include <algorithm>

namespace mpiply::detail {

void EngineStates::reset(std::size_t n, unsigned hwm, unsigned deepest) {
  hwm_ = std::max(1u, hwm);
  deepest_ = std::max(hwm_, deepest);
  load_.assign(n, 0);
  window_.assign(n, hwm_);
  retired_.assign(n, 0);
  held_.assign(n, 0);
  in_service_ = n;
}

bool EngineStates::retire(int e) {
  if (retired_[at(e)]) return false;
  retired_[at(e)] = 1;
  --in_service_;
  return true;
}

bool EngineStates::set_held(int e, bool held) {
  if ((held_[at(e)] != 0) == held) return false;
  held_[at(e)] = held ? 1 : 0;
  return true;
}

bool EngineStates::any_in_service(const std::vector<int>& engines) const {
  if (engines.empty()) return in_service_ > 0;
  return std::any_of(engines.begin(), engines.end(), [&](int e) { return in_service(e); });
}

}  // namespace mpiply::detail
