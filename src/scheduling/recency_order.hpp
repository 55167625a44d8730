#pragma once
// When a SchemePicker (schemes.hpp) last gave each engine a task (its stamp), and, for the
// leastload and lru schemes, the engines with room in the scheme's exact order: an ordered set
// by (load, stamp) for leastload ("least loaded, then least recently used") or by stamp alone
// for lru, O(log E) per change. The set is built when a pick first asks for it and dropped again
// after 4E + 64 load changes without a question (only plain tasks running), so plain tasks stop
// paying for it; the next question rebuilds it. Part of the engine index (engine_index.hpp).
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include <mpiply/run_options.hpp>

#include "scheduling/engine_states.hpp"

namespace mpiply::detail {

class RecencyOrder {
 public:
  // n engines, never given a task; the set is off.
  void reset(std::size_t n, Scheme scheme);
  std::uint64_t stamp(int e) const noexcept { return stamp_[static_cast<std::size_t>(e)]; }
  // Engine e, at this load, gains room / loses it (into or out of the set while it is on).
  // These three run on every load change: defined here, they cost one test while it is off.
  void join(int e, unsigned load) {
    if (on_) insert(e, load);
  }
  void leave(int e, unsigned load) {
    if (on_) spare_ = ordered_.extract(key(e, load));
  }
  // One load change of any of the n engines: the set goes after 4n + 64 without a question
  // (rebuilding it costs O(n log n)).
  void changed(std::size_t n) {
    if (on_ && ++unasked_ > 4 * n + 64) {
      on_ = false;
      ordered_.clear();
    }
  }
  // A pick gave engine e a task now; `listed`: e has room (so it is in the set while on).
  void touch(int e, bool listed, unsigned load);
  // The first engine with room in the scheme's order, -1 if none; builds the set from the
  // engines' states if it is off.
  int first(const EngineStates& engines);

 private:
  struct Key {
    unsigned load;
    std::uint64_t stamp;
    int e;
    bool operator<(const Key& o) const noexcept {
      if (load != o.load) return load < o.load;
      if (stamp != o.stamp) return stamp < o.stamp;
      return e < o.e;
    }
  };
  Key key(int e, unsigned load) const noexcept { return {lru_ ? 0u : load, stamp(e), e}; }
  void insert(int e, unsigned load);

  bool lru_ = false;
  std::vector<std::uint64_t> stamp_;  // 0 = never
  std::uint64_t clock_ = 0;
  bool on_ = false;
  std::size_t unasked_ = 0;  // load changes since first was last called
  std::set<Key> ordered_;
  std::set<Key>::node_type spare_;
};

}  // namespace mpiply::detail
