#pragma once
// The engines with room as dense arrays, for the schemes that draw at random: with plainrandom
// or twobin one array of them all (a uniform draw is one index), with weighted one array per
// load level (a draw weighted by 1 / load picks a level by its total weight, then an engine in
// it). With any other scheme it keeps nothing. Part of the engine index (engine_index.hpp),
// which tells it every engine that gains or loses room; O(1) per change.
#include <cstddef>
#include <random>
#include <vector>

#include <mpiply/run_options.hpp>

namespace mpiply::detail {

class RoomDraws {
 public:
  // n engines, none listed; levels 0..levels-1 (weighted only: the deepest window).
  void reset(std::size_t n, unsigned levels, Scheme scheme);
  // Engine e, at load `level`, gains room / loses it. They run on every load change: defined
  // here, they cost one test with a scheme that draws nothing.
  void join(int e, unsigned level) {
    if (dense_ || !level_.empty()) add(e, level);
  }
  void leave(int e, unsigned level) {
    if (dense_ || !level_.empty()) remove(e, level);
  }
  // Uniform draw among the engines with room (-1 if none); plainrandom or twobin only.
  int uniform(std::mt19937_64& rng) const;
  // Draw weighted by 1 / (1e-6 + load) among the engines with room, which must not be none;
  // weighted only. O(levels).
  int weighted(std::mt19937_64& rng) const;

 private:
  void add(int e, unsigned level);
  void remove(int e, unsigned level);

  bool dense_ = false;
  std::vector<int> room_, room_pos_;  // plainrandom and twobin only
  std::vector<std::vector<int>> level_;  // weighted only
  std::vector<int> level_pos_;
};

}  // namespace mpiply::detail
