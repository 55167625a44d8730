// FIFO lists of the engines with room, by load level (load_levels.hpp).
#include "scheduling/load_levels.hpp"

namespace mpiply::detail {

void LoadLevels::reset(std::size_t n, unsigned levels) {
  head_.assign(levels, -1);
  tail_.assign(levels, -1);
  next_.assign(n, -1);
  prev_.assign(n, -1);
  min_ = 0;
  size_ = 0;
}

int LoadLevels::first() {
  if (size_ == 0) return -1;
  while (head_[min_] < 0) ++min_;  // an engine with room is listed at some level >= min_
  return head_[min_];
}

}  // namespace mpiply::detail
