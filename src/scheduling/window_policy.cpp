// Each engine's window from its tasks' recent run times (window_policy.hpp).
#include "scheduling/window_policy.hpp"

#include <algorithm>

namespace mpiply::detail {

void WindowPolicy::reset(std::size_t n, unsigned hwm, unsigned deep) {
  hwm_ = std::max(1u, hwm);
  deep_ = std::max(hwm_, deep);
  mean_ns_.assign(deepens() ? n : 0, -1);
  window_.assign(n, hwm_);
}

unsigned WindowPolicy::ran(int e, std::int64_t ran_ns) {
  auto i = static_cast<std::size_t>(e);
  if (!deepens() || ran_ns < 0) return window_[i];
  std::int64_t& m = mean_ns_[i];
  m = m < 0 ? ran_ns : m + (ran_ns - m) / 8;
  // As many tasks of the mean length as fill kQueuedWorkNs; a mean under 1 ns counts as 1 ns.
  std::int64_t fit = kQueuedWorkNs / std::max<std::int64_t>(m, 1);
  window_[i] = static_cast<unsigned>(std::clamp<std::int64_t>(fit, hwm_, deep_));
  return window_[i];
}

}  // namespace mpiply::detail
