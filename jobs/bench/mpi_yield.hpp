#pragma once
// bench: Open MPI's yield-when-idle. On an oversubscribed node (3 ranks on 2 cores) Open MPI turns
// it on, and a blocking baseline then calls sched_yield on every idle poll, which slows a 3-rank
// ping-pong several times over (docs/benchmarks-log.md). A plain MPI program can turn it off
// (--mca mpi_yield_when_idle 0) and the farm is faster with it on, so where it is on every
// baseline runs both ways and the better figure is the baseline. mpiply itself turns it off only
// in its own polls (src/support/idle_yield.hpp).
#include <dlfcn.h>

#include <algorithm>

#include <mpi.h>

#include "common.hpp"

namespace bench {

// Open MPI's flag (opal_progress_yield_when_idle), or null with another MPI.
inline bool* mpi_yield_flag() {
  static bool* const f = static_cast<bool*>(dlsym(RTLD_DEFAULT, "opal_progress_yield_when_idle"));
  return f;
}

// Whether yield-when-idle is on on any rank: every rank must run the same variants.
inline bool yield_on_anywhere() {
  int mine = mpi_yield_flag() != nullptr && *mpi_yield_flag() ? 1 : 0, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  return any != 0;
}

// What decides which of two variants is better: the figure itself, or for a round trip its
// median (its p99 comes from the same variant, so the two are never mixed).
inline double yield_key(double v) { return v; }
inline double yield_key(const RoundTrip& r) { return r.median; }

// A baseline measured as MPI leaves it and, where yield-when-idle is on, again with it off.
template <class T = double>
struct YieldVariants {
  T as_is{};
  T off{};
  bool ran_off = false;  // false: yield-when-idle was off everywhere, `off` was not run
  T best(bool lower_is_better) const {
    if (!ran_off) return as_is;
    bool off_better = lower_is_better ? yield_key(off) < yield_key(as_is)
                                      : yield_key(off) > yield_key(as_is);
    return off_better ? off : as_is;
  }
};

// `here`: whether this rank turns it off for the second run (ranks that only wait in a barrier
// meanwhile keep yielding, so they leave the cores to the ranks at work).
template <class F>
auto both_yield_settings(F&& measure, bool here = true) {
  YieldVariants<decltype(measure())> v;
  v.as_is = measure();
  if (!yield_on_anywhere()) return v;
  bool* f = here ? mpi_yield_flag() : nullptr;
  bool was = f != nullptr && *f;
  if (f != nullptr) *f = false;
  v.off = measure();
  v.ran_off = true;
  if (f != nullptr) *f = was;
  return v;
}

}  // namespace bench
