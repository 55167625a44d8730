// FIFO lists of the engines with room, by load level (load_levels.hpp).
#include "scheduling/load_levels.hpp"

#include <algorithm>

namespace mpiply::detail {

namespace {

std::size_t at(int e) { return static_cast<std::size_t>(e); }

}  // namespace

void LoadLevels::reset(std::size_t n, unsigned levels) {
  head_.assign(levels, -1);
  tail_.assign(levels, -1);
  next_.assign(n, -1);
  prev_.assign(n, -1);
  min_ = 0;
  size_ = 0;
}

void LoadLevels::join(int e, unsigned level) {
  prev_[at(e)] = tail_[level];
  next_[at(e)] = -1;
  if (tail_[level] >= 0) next_[at(tail_[level])] = e;
  else head_[level] = e;
  tail_[level] = e;
  min_ = std::min(min_, level);
  ++size_;
}

void LoadLevels::leave(int e, unsigned level) {
  if (prev_[at(e)] >= 0) next_[at(prev_[at(e)])] = next_[at(e)];
  else head_[level] = next_[at(e)];
  if (next_[at(e)] >= 0) prev_[at(next_[at(e)])] = prev_[at(e)];
  else tail_[level] = prev_[at(e)];
  --size_;
}

int LoadLevels::first() {
  if (size_ == 0) return -1;
  while (head_[min_] < 0) ++min_;  // an engine with room is listed at some level >= min_
  return head_[min_];
}

}  // namespace mpiply::detail
