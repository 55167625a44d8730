#pragma once
// Placement: which engine a load-balanced task goes to, by the run's Scheme (run_options.hpp).
// Every scheme only picks among engines below hwm and allowed by the caller's filter (a view's
// subset, `follow`, engines already tried, engines shut down). The plain leastload case never
// comes here: ClientCore keeps its own round-robin loop for it, so plain maps pay nothing.
#include <cstdint>
#include <random>
#include <vector>

#include <mpiply/run_options.hpp>

namespace mpiply::detail {

class Placement {
 public:
  explicit Placement(Scheme s) : scheme_(s) {}
  Scheme scheme() const noexcept { return scheme_; }

  // An engine among 0..n-1 for which allowed(e) holds and load(e) < hwm, or -1 if none.
  template <class Load, class Allowed>
  int pick(std::size_t n, unsigned hwm, Load&& load, Allowed&& allowed) {
    if (stamp_.size() != n) stamp_.assign(n, 0);
    int e = -1;
    switch (scheme_) {
      case Scheme::leastload: e = least_loaded(n, hwm, load, allowed); break;
      case Scheme::lru: e = least_recent(n, hwm, load, allowed); break;
      case Scheme::plainrandom: e = draw(n, hwm, load, allowed, false); break;
      case Scheme::twobin: {
        int a = draw(n, hwm, load, allowed, false), b = draw(n, hwm, load, allowed, false);
        e = (a < 0 || (b >= 0 && stamp_[b] < stamp_[a])) ? b : a;
        break;
      }
      case Scheme::weighted: {
        int a = draw(n, hwm, load, allowed, true), b = draw(n, hwm, load, allowed, true);
        e = (a < 0 || (b >= 0 && load(b) < load(a))) ? b : a;
        break;
      }
    }
    if (e >= 0) stamp_[static_cast<std::size_t>(e)] = ++clock_;
    return e;
  }

 private:
  template <class Load, class Allowed>
  int least_loaded(std::size_t n, unsigned hwm, Load& load, Allowed& allowed) const {
    int best = -1;
    for (std::size_t e = 0; e < n; ++e) {
      int i = static_cast<int>(e);
      unsigned c = load(i);
      if (c >= hwm || !allowed(i)) continue;
      if (best < 0 || c < load(best) || (c == load(best) && stamp_[e] < stamp_[best])) best = i;
    }
    return best;
  }
  template <class Load, class Allowed>
  int least_recent(std::size_t n, unsigned hwm, Load& load, Allowed& allowed) const {
    int best = -1;
    for (std::size_t e = 0; e < n; ++e) {
      int i = static_cast<int>(e);
      if (load(i) >= hwm || !allowed(i)) continue;
      if (best < 0 || stamp_[e] < stamp_[best]) best = i;
    }
    return best;
  }
  // One engine at random (weighted by 1/load when weighted), in one pass: each candidate
  // replaces the choice with probability weight / (sum of weights so far).
  template <class Load, class Allowed>
  int draw(std::size_t n, unsigned hwm, Load& load, Allowed& allowed, bool weighted) {
    int chosen = -1;
    double total = 0;
    for (std::size_t e = 0; e < n; ++e) {
      int i = static_cast<int>(e);
      unsigned c = load(i);
      if (c >= hwm || !allowed(i)) continue;
      double w = weighted ? 1.0 / (1e-6 + c) : 1.0;
      total += w;
      if (std::uniform_real_distribution<double>(0.0, total)(rng_) < w) chosen = i;
    }
    return chosen;
  }

  Scheme scheme_;
  std::vector<std::uint64_t> stamp_;  // when each engine last got a task (0 = never)
  std::uint64_t clock_ = 0;
  std::mt19937_64 rng_{0x6d70'6970'6c79ULL};  // fixed seed: a rerun places tasks the same way
};

}  // namespace mpiply::detail
