// Rank 0's index of engines with room (engine_index.hpp): every change of an engine's state
// moves it into or out of each listing, so the listings hold exactly the engines with room.
#include "scheduling/engine_index.hpp"

namespace mpiply::detail {

void EngineIndex::reset(std::size_t n, unsigned hwm, unsigned deepest, Scheme scheme) {
  states_.reset(n, hwm, deepest);
  levels_.reset(n, states_.deepest());
  draws_.reset(n, states_.deepest(), scheme);
  order_.reset(n, scheme);
  for (std::size_t e = 0; e < n; ++e) join(static_cast<int>(e));
}

void EngineIndex::join(int e) {
  unsigned c = states_.load(e);
  levels_.join(e, c);
  draws_.join(e, c);
  order_.join(e, c);
}

void EngineIndex::leave(int e) {
  unsigned c = states_.load(e);
  levels_.leave(e, c);
  draws_.leave(e, c);
  order_.leave(e, c);
}

void EngineIndex::set_load(int e, unsigned c) {
  if (states_.has_room(e)) leave(e);
  states_.set_load(e, c);
  if (states_.has_room(e)) join(e);
  order_.changed(states_.size());
}

void EngineIndex::set_window(int e, unsigned w) {
  if (states_.has_room(e)) leave(e);
  states_.set_window(e, w);
  if (states_.has_room(e)) join(e);
}

void EngineIndex::retire(int e) {
  if (!states_.in_service(e)) return;
  if (states_.has_room(e)) leave(e);
  states_.retire(e);
}

void EngineIndex::hold(int e) {
  if (states_.held(e)) return;
  if (states_.has_room(e)) leave(e);
  states_.set_held(e, true);
}

void EngineIndex::release_hold(int e) {
  if (!states_.set_held(e, false)) return;
  if (states_.has_room(e)) join(e);
}

}  // namespace mpiply::detail
