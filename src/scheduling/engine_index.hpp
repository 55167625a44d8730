#pragma once
// Rank 0's index of the engines that can take a task (in service, not held, fewer than hwm
// outstanding), kept up to date on every send and result, so that picking an engine costs the
// same whatever the engine count. TaskPlacer (task_placer.hpp) owns it and tells it each load
// change; the plain leastload loop and every SchemePicker scheme (schemes.hpp) read it instead
// of scanning the engines.
//
// It coordinates the engines' states and three listings of the engines with room, each a
// component in the file of its name, and keeps them in step (join / leave on every change):
//  - EngineStates (engine_states.hpp): each engine's load, service and hold;
//  - LoadLevels (load_levels.hpp): a FIFO list per load level, for the plain loop;
//  - RoomDraws (room_draws.hpp): dense arrays for plainrandom, twobin and weighted draws;
//  - RecencyOrder (recency_order.hpp): stamps and the leastload / lru order.
#include <cstdint>
#include <random>

#include <mpiply/run_options.hpp>

#include "scheduling/engine_states.hpp"
#include "scheduling/load_levels.hpp"
#include "scheduling/recency_order.hpp"
#include "scheduling/room_draws.hpp"

namespace mpiply::detail {

class EngineIndex {
 public:
  // n engines in service, all at load 0 and window hwm; no window deeper than deepest.
  void reset(std::size_t n, unsigned hwm, unsigned deepest, Scheme scheme);

  // Engine e's outstanding count changed from its old value to c (after each send and result).
  void set_load(int e, unsigned c);
  // Engine e's window changed to w (window_policy.hpp).
  void set_window(int e, unsigned w);
  // Engine e takes no more tasks (Client::shutdown(targets)); for good.
  void retire(int e);
  // Engine e is held idle for a waiting team (team_placer.hpp): no pick returns it until
  // release_hold, while its load is still tracked.
  void hold(int e);
  void release_hold(int e);

  // Each engine's load, service, hold and room.
  const EngineStates& states() const noexcept { return states_; }
  bool any_room() const noexcept { return levels_.size() != 0; }

  // The plain loop: least loaded in service, ties round robin; -1 if none has room. O(1)
  // amortised.
  int least_round_robin() { return levels_.first(); }
  // Uniform draw among the engines with room (-1 if none); needs plainrandom or twobin.
  int draw_uniform(std::mt19937_64& rng) const { return draws_.uniform(rng); }
  // Draw weighted by 1 / (1e-6 + load) among the engines with room (-1 if none); needs the
  // weighted scheme. O(deepest window).
  int draw_weighted(std::mt19937_64& rng) const { return any_room() ? draws_.weighted(rng) : -1; }

  // Stamps: when a SchemePicker last gave each engine a task (0 = never).
  std::uint64_t stamp(int e) const noexcept { return order_.stamp(e); }
  void touch(int e) { order_.touch(e, states_.has_room(e), states_.load(e)); }
  // The first engine with room in the scheme's order (leastload: load then stamp; lru: stamp),
  // -1 if none.
  int first_ordered() { return order_.first(states_); }

 private:
  void join(int e);   // e has room: into every listing
  void leave(int e);  // out of them (before a load change, or held, or retired)

  EngineStates states_;
  LoadLevels levels_;
  RoomDraws draws_;
  RecencyOrder order_;
};

}  // namespace mpiply::detail
