#pragma once
// The engines with room, one FIFO list per load level (0..hwm-1): the plain leastload loop
// takes the head of the lowest non-empty level, so ties go round robin (an engine joins the back
// of its level each time its load changes). Part of the engine index (engine_index.hpp), which
// tells it every engine that gains or loses room; O(1) per change, amortised O(1) per pick.
#include <cstddef>
#include <vector>

namespace mpiply::detail {

class LoadLevels {
 public:
  // n engines, none listed, levels 0..levels-1.
  void reset(std::size_t n, unsigned levels);
  // Engine e, at load `level`, goes to the back of that level's list / out of it.
  void join(int e, unsigned level);
  void leave(int e, unsigned level);
  // How many engines are listed.
  std::size_t size() const noexcept { return size_; }
  // The head of the lowest non-empty level, -1 if none is listed.
  int first();

 private:
  // Heads and tails by level, links by engine (-1: none).
  std::vector<int> head_, tail_, next_, prev_;
  unsigned min_ = 0;  // no level below it has an engine
  std::size_t size_ = 0;
};

}  // namespace mpiply::detail
