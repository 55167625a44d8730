#pragma once
// SchemePicker: which engine a load-balanced task goes to, by the run's Scheme (run_options.hpp).
// Every scheme only picks among engines in service below hwm (EngineStates::has_room) and, for
// pick_among, allowed by the caller's filter (a view's subset, `follow`, engines already tried).
// The plain leastload case never comes here: the scheduler's owner takes
// EngineIndex::least_round_robin for it (EnginePicker::next_plain), so plain maps pay nothing.
//
// pick (any engine) reads the index and costs the same whatever the engine count: O(log E) for
// leastload and lru (an ordered set), O(1) for plainrandom and twobin, O(hwm) for weighted.
// pick_among costs O(candidates): a task restricted to k engines looks at those k only.
#include <cstdint>
#include <random>
#include <vector>

#include <mpiply/run_options.hpp>

#include "scheduling/engine_index.hpp"

namespace mpiply::detail {

class SchemePicker {
 public:
  explicit SchemePicker(Scheme s) : scheme_(s) {}
  Scheme scheme() const noexcept { return scheme_; }

  // An engine with room among all those in service, or -1 if none.
  int pick(EngineIndex& ix) {
    int e = -1;
    switch (scheme_) {
      case Scheme::leastload:
      case Scheme::lru: e = ix.first_ordered(); break;
      case Scheme::plainrandom: e = ix.draw_uniform(rng_); break;
      case Scheme::twobin: {
        int a = ix.draw_uniform(rng_), b = ix.draw_uniform(rng_);
        e = (a < 0 || (b >= 0 && ix.stamp(b) < ix.stamp(a))) ? b : a;
        break;
      }
      case Scheme::weighted: {
        int a = ix.draw_weighted(rng_), b = ix.draw_weighted(rng_);
        e = (a < 0 || (b >= 0 && ix.states().load(b) < ix.states().load(a))) ? b : a;
        break;
      }
    }
    if (e >= 0) ix.touch(e);
    return e;
  }

  // An engine with room among candidates for which allowed(e) holds, or -1 if none.
  template <class Allowed>
  int pick_among(EngineIndex& ix, const std::vector<int>& candidates, Allowed&& allowed) {
    auto ok = [&](int e) { return ix.states().has_room(e) && allowed(e); };
    int e = -1;
    switch (scheme_) {
      case Scheme::leastload: e = least_loaded(ix, candidates, ok); break;
      case Scheme::lru: e = least_recent(ix, candidates, ok); break;
      case Scheme::plainrandom: e = draw(ix, candidates, ok, false); break;
      case Scheme::twobin: {
        int a = draw(ix, candidates, ok, false), b = draw(ix, candidates, ok, false);
        e = (a < 0 || (b >= 0 && ix.stamp(b) < ix.stamp(a))) ? b : a;
        break;
      }
      case Scheme::weighted: {
        int a = draw(ix, candidates, ok, true), b = draw(ix, candidates, ok, true);
        e = (a < 0 || (b >= 0 && ix.states().load(b) < ix.states().load(a))) ? b : a;
        break;
      }
    }
    if (e >= 0) ix.touch(e);
    return e;
  }

 private:
  template <class Ok>
  static int least_loaded(const EngineIndex& ix, const std::vector<int>& cands, Ok& ok) {
    int best = -1;
    for (int e : cands) {
      if (!ok(e)) continue;
      unsigned c = ix.states().load(e), b = best < 0 ? 0 : ix.states().load(best);
      if (best < 0 || c < b || (c == b && ix.stamp(e) < ix.stamp(best)))
        best = e;
    }
    return best;
  }
  template <class Ok>
  static int least_recent(const EngineIndex& ix, const std::vector<int>& cands, Ok& ok) {
    int best = -1;
    for (int e : cands)
      if (ok(e) && (best < 0 || ix.stamp(e) < ix.stamp(best))) best = e;
    return best;
  }
  // One candidate at random (weighted by 1/load when weighted), in one pass: each replaces the
  // choice with probability weight / (sum of weights so far).
  template <class Ok>
  int draw(const EngineIndex& ix, const std::vector<int>& cands, Ok& ok, bool weighted) {
    int chosen = -1;
    double total = 0;
    for (int e : cands) {
      if (!ok(e)) continue;
      double w = weighted ? 1.0 / (1e-6 + ix.states().load(e)) : 1.0;
      total += w;
      if (std::uniform_real_distribution<double>(0.0, total)(rng_) < w) chosen = e;
    }
    return chosen;
  }

  Scheme scheme_;
  std::mt19937_64 rng_{0x6d70'6970'6c79ULL};  // fixed seed: a rerun places tasks the same way
};

}  // namespace mpiply::detail
