#pragma once
// What rank 0 knows of each engine as the scheduler counts it: how many tasks it holds
// (outstanding, from every send and result), how many it may hold (its window: hwm, or deeper
// while its tasks run briefly, window_policy.hpp), whether it is still in service
// (Client::shutdown retires it for good), whether it is held idle for a waiting team
// (team_placer.hpp). The engine index (engine_index.hpp) owns it and keeps its listings of
// engines with room in step with it; the client reads it (Scheduler::placer().engines()) to
// answer which engines exist and to refuse work for retired ones.
#include <cstddef>
#include <vector>

namespace mpiply::detail {

class EngineStates {
 public:
  // n engines in service, none held, all at load 0, each taking up to hwm (at least 1) tasks;
  // no window will be deeper than deepest (at least hwm).
  void reset(std::size_t n, unsigned hwm, unsigned deepest);
  void set_load(int e, unsigned c) { load_[at(e)] = c; }
  // Engine e may hold w tasks from now on (hwm <= w <= deepest()).
  void set_window(int e, unsigned w) { window_[at(e)] = w; }
  // Takes engine e out of service; false if it already was.
  bool retire(int e);
  // Marks engine e held (or not) for a team; false if it already was (or was not).
  bool set_held(int e, bool held);

  std::size_t size() const noexcept { return load_.size(); }
  unsigned hwm() const noexcept { return hwm_; }
  unsigned deepest() const noexcept { return deepest_; }
  unsigned window(int e) const noexcept { return window_[at(e)]; }
  unsigned load(int e) const noexcept { return load_[at(e)]; }
  bool in_service(int e) const noexcept { return !retired_[at(e)]; }
  bool held(int e) const noexcept { return held_[at(e)] != 0; }
  // In service, not held, below its window: a pick may return it. The engine index lists
  // exactly these.
  bool has_room(int e) const noexcept {
    return in_service(e) && !held(e) && load(e) < window_[at(e)];
  }
  std::size_t in_service_count() const noexcept { return in_service_; }
  // Whether one of these engines (all engines when empty) is still in service.
  bool any_in_service(const std::vector<int>& engines) const;

 private:
  static std::size_t at(int e) noexcept { return static_cast<std::size_t>(e); }

  unsigned hwm_ = 1, deepest_ = 1;
  std::vector<unsigned> load_, window_;
  std::vector<char> retired_;
  std::vector<char> held_;
  std::size_t in_service_ = 0;
};

}  // namespace mpiply::detail
