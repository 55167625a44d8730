// Stamps and the leastload / lru order of the engines with room (recency_order.hpp).
#include "scheduling/recency_order.hpp"

namespace mpiply::detail {

void RecencyOrder::reset(std::size_t n, Scheme scheme) {
  lru_ = scheme == Scheme::lru;
  stamp_.assign(n, 0);
  clock_ = 0;
  on_ = false;
  ordered_.clear();
}

void RecencyOrder::touch(int e, bool listed, unsigned load) {
  bool in_set = on_ && listed;
  if (in_set) spare_ = ordered_.extract(key(e, load));
  stamp_[static_cast<std::size_t>(e)] = ++clock_;
  if (in_set) insert(e, load);
}

// Reuses the node of the last extraction: a load change allocates nothing.
void RecencyOrder::insert(int e, unsigned load) {
  if (spare_.empty()) {
    ordered_.insert(key(e, load));
    return;
  }
  spare_.value() = key(e, load);
  ordered_.insert(std::move(spare_));
}

int RecencyOrder::first(const EngineStates& engines) {
  unasked_ = 0;
  if (!on_) {
    on_ = true;
    for (std::size_t i = 0; i < engines.size(); ++i) {
      int e = static_cast<int>(i);
      if (engines.has_room(e)) ordered_.insert(key(e, engines.load(e)));
    }
  }
  return ordered_.empty() ? -1 : ordered_.begin()->e;
}

}  // namespace mpiply::detail
