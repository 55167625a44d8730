// Each engine's window from its tasks' recent run times (window_policy.hpp).
#include "scheduling/window_policy.hpp"

#include <algorithm>

namespace mpiply::detail {

void WindowPolicy::reset(std::size_t n, unsigned hwm, unsigned deep) {
  hwm_ = std::max(1u, hwm);
  deep_ = std::max(hwm_, deep);
  mean_ns_.assign(deepens() ? n : 0, -1);
}

unsigned WindowPolicy::ran(int e, std::int64_t ran_ns) {
  if (deepens() && ran_ns >= 0) {
    std::int64_t& m = mean_ns_[static_cast<std::size_t>(e)];
    m = m < 0 ? ran_ns : m + (ran_ns - m) / 8;
  }
  return window(e);
}

unsigned WindowPolicy::window(int e) const noexcept {
  if (!deepens()) return hwm_;
  std::int64_t m = mean_ns_[static_cast<std::size_t>(e)];
  if (m < 0) return hwm_;
  // As many tasks of the mean length as fill kQueuedWorkNs; a mean under 1 ns counts as 1 ns.
  std::int64_t fit = kQueuedWorkNs / std::max<std::int64_t>(m, 1);
  return static_cast<unsigned>(std::clamp<std::int64_t>(fit, hwm_, deep_));
}

}  // namespace mpiply::detail
