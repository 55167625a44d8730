// The scheme's picks for every load-balanced task, and the plain fast path (engine_picker.hpp).
#include "scheduling/engine_picker.hpp"

namespace mpiply::detail {

EnginePicker::EnginePicker(EngineIndex& index, Scheme scheme)
    : index_(index), picker_(scheme), fast_(scheme == Scheme::leastload) {}

int EnginePicker::pick_plain(const std::vector<int>& candidates) {
  if (candidates.empty()) return picker_.pick(index_);
  return picker_.pick_among(index_, candidates, [](int) { return true; });
}

}  // namespace mpiply::detail
