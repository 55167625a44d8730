#pragma once
// How many tasks each engine may hold at once: its window. The window is hwm, unless hwm may
// deepen (the user did not set it: MPIPLY_HWM, RunOptions::hwm): then an engine whose recent
// tasks ran briefly is given more, as many as fill kQueuedWorkNs of its recent run time, up to
// the deep window. A task shorter than a round trip through rank 0 would otherwise leave the
// engine waiting for its next bundle; a deeper window keeps it busy, and bounds what another
// engine could have taken over at the end of a map to about kQueuedWorkNs of short tasks. Each
// result's run time updates the engine's moving average (weight 1/8); an engine starts at hwm.
// Part of the task placer (task_placer.hpp), which tells the engine index each change.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mpiply::detail {

class WindowPolicy {
 public:
  // The deepest window of an engine running short tasks, when hwm may deepen.
  static constexpr unsigned kDeepWindow = 32;
  // The recent run time an engine's window may hold: 200 us.
  static constexpr std::int64_t kQueuedWorkNs = 200'000;

  // n engines at window hwm; deep: the deepest window (at most hwm: fixed at hwm).
  void reset(std::size_t n, unsigned hwm, unsigned deep);
  // Whether a window can differ from hwm.
  bool deepens() const noexcept { return deep_ > hwm_; }
  unsigned hwm() const noexcept { return hwm_; }
  // The largest window any engine can have.
  unsigned deepest() const noexcept { return deepens() ? deep_ : hwm_; }
  // A task of engine e ran ran_ns (negative: not known, nothing changes). Returns e's window
  // after it.
  unsigned ran(int e, std::int64_t ran_ns);
  // e's window from its tasks' moving average (hwm before any is known). The one in effect is
  // EngineStates'; the placer copies each change there.
  unsigned window(int e) const noexcept;

 private:
  unsigned hwm_ = 1, deep_ = 1;
  std::vector<std::int64_t> mean_ns_;  // moving average of run times; -1: none yet
};

}  // namespace mpiply::detail
