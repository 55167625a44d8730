#pragma once
// The engines with room, one FIFO list per load level (0..deepest window - 1): the plain
// leastload loop takes the head of the lowest non-empty level, so ties go round robin (an engine
// joins the back of its level each time its load changes). Part of the engine index
// (engine_index.hpp), which tells it every engine that gains or loses room; O(1) per change,
// amortised O(1) per pick.
#include <cstddef>
#include <vector>

namespace mpiply::detail {

class LoadLevels {
 public:
  // n engines, none listed, levels 0..levels-1.
  void reset(std::size_t n, unsigned levels);
  // Engine e, at load `level`, goes to the back of that level's list / out of it. Defined here
  // so that they inline into the index's load change, which runs on every send and result.
  void join(int e, unsigned level) {
    prev_[at(e)] = tail_[level];
    next_[at(e)] = -1;
    if (tail_[level] >= 0) next_[at(tail_[level])] = e;
    else head_[level] = e;
    tail_[level] = e;
    if (level < min_) min_ = level;
    ++size_;
  }
  void leave(int e, unsigned level) {
    if (prev_[at(e)] >= 0) next_[at(prev_[at(e)])] = next_[at(e)];
    else head_[level] = next_[at(e)];
    if (next_[at(e)] >= 0) prev_[at(next_[at(e)])] = prev_[at(e)];
    else tail_[level] = prev_[at(e)];
    --size_;
  }
  // How many engines are listed.
  std::size_t size() const noexcept { return size_; }
  // The head of the lowest non-empty level, -1 if none is listed.
  int first();

 private:
  static std::size_t at(int e) noexcept { return static_cast<std::size_t>(e); }

  // Heads and tails by level, links by engine (-1: none).
  std::vector<int> head_, tail_, next_, prev_;
  unsigned min_ = 0;  // no level below it has an engine
  std::size_t size_ = 0;
};

}  // namespace mpiply::detail
