#pragma once
// The run's scheme over the engine index: every pick of an engine for a load-balanced task,
// plain or flagged, goes through the one SchemePicker here, so they all draw from one random
// stream (a rerun places tasks the same way). Plain tasks (no flags) are the owner's: while
// plain_fast() holds (leastload, no engine shut down) the owner takes next_plain(), the index's
// O(1) least-loaded pick, and keeps its own queue; otherwise pick_plain asks the scheme.
#include <utility>
#include <vector>

#include <mpiply/run_options.hpp>

#include "scheduling/engine_index.hpp"
#include "scheduling/schemes.hpp"

namespace mpiply::detail {

class EnginePicker {
 public:
  EnginePicker(EngineIndex& index, Scheme scheme);
  EnginePicker(const EnginePicker&) = delete;
  EnginePicker& operator=(const EnginePicker&) = delete;

  Scheme scheme() const noexcept { return picker_.scheme(); }
  bool plain_fast() const noexcept { return fast_; }
  // The engine for the next plain task while plain_fast(), -1 if none has room.
  int next_plain() { return index_.least_round_robin(); }
  // The scheme's engine for a plain task among candidates (all when empty), -1 if none has room.
  int pick_plain(const std::vector<int>& candidates);

  // The scheme's engine among all with room / among candidates with room for which
  // allowed(e) holds; -1 if none.
  int any() { return picker_.pick(index_); }
  template <class Allowed>
  int among(const std::vector<int>& candidates, Allowed&& allowed) {
    return picker_.pick_among(index_, candidates, std::forward<Allowed>(allowed));
  }

  // The engines were reset: plain tasks take the fast path again if the scheme allows.
  void reset() { fast_ = picker_.scheme() == Scheme::leastload; }
  // An engine was shut down: plain tasks go through pick_plain, which knows engines out of
  // service, from now on.
  void slow() { fast_ = false; }

 private:
  EngineIndex& index_;
  SchemePicker picker_;
  bool fast_;
};

}  // namespace mpiply::detail
