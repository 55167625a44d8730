#pragma once
// Trace points: a timestamp at fixed places on a task's way (rank 0's submit and send, the
// engine's receive, run and send, rank 0's receive and its waiting thread's wake-up), to see
// where the nanoseconds of a round trip go. Sampling (perf) cannot show that: an apply's round
// trip is about a microsecond, its steps tens of nanoseconds each.
//
// Compiled in only by a build configured with -DMPIPLY_TRACE_POINTS=ON (tools/trace-points.sh
// makes one, runs the bench in it and prints the table); in every other build MPIPLY_TRACE(p) is
// nothing. A traced process records into memory, per thread, and at exit writes one file per
// thread into the directory MPIPLY_TRACE_POINTS_DIR names (nothing when it is unset):
// jobs/bench/trace_segments.py reads them. The ranks of one node share the clock (the CPU's
// time-stamp counter on x86-64, the steady clock elsewhere), so their points merge into one
// timeline.
#include <cstdint>

#ifdef MPIPLY_TRACE_POINTS
#include "support/clock.hpp"
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#endif

namespace mpiply::detail {

// The points, in order (numbered from 1); the files name them by number and list the names.
#define MPIPLY_TRACE_POINT_LIST(X)                                                           \
  X(calibrate)      /* back to back as a thread starts recording: what a point costs */     \
  X(loop_begin)     /* the bench's timed loop begins (jobs/bench) */                         \
  X(loop_end)       /* ... and ends: the script reads the points between */                 \
  X(call)           /* the bench calls apply_async (or map_async) */                        \
  X(got)            /* ... its get() returned */                                            \
  X(submit_locked)  /* ClientCore::submit holds the client lock */                          \
  X(dispatch)       /* ... starts to dispatch */                                            \
  X(task_sent)      /* rank 0's send of a task message returned */                          \
  X(task_arrived)   /* an engine found a task message */                                    \
  X(task_run)       /* ... starts a task */                                                 \
  X(task_ran)       /* ... the task returned */                                             \
  X(result_sent)    /* ... a result message left */                                         \
  X(result_arrived) /* rank 0 found a result message */                                     \
  X(result_handled) /* ... handed its results on */                                         \
  X(wait_done)      /* the waiting thread sees its result is in */

enum class TracePoint : std::uint16_t {
  none = 0,
#define MPIPLY_TRACE_POINT_ENUM(name) name,
  MPIPLY_TRACE_POINT_LIST(MPIPLY_TRACE_POINT_ENUM)
#undef MPIPLY_TRACE_POINT_ENUM
};

#ifdef MPIPLY_TRACE_POINTS

struct TraceBuffer {
  std::uint64_t* ticks = nullptr;
  std::uint16_t* points = nullptr;
  std::uint32_t n = 0, cap = 0;
};
inline thread_local TraceBuffer* t_trace = nullptr;
// This thread's buffer, made (and registered for the dump at exit) on first use.
TraceBuffer* trace_buffer() noexcept;

inline std::uint64_t trace_ticks() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(steady_ns());
#endif
}

inline void trace(TracePoint p) noexcept {
  TraceBuffer* b = t_trace != nullptr ? t_trace : trace_buffer();
  if (b->n == b->cap) return;  // full: later points are dropped
  b->ticks[b->n] = trace_ticks();
  b->points[b->n++] = static_cast<std::uint16_t>(p);
}

#define MPIPLY_TRACE(p) ::mpiply::detail::trace(::mpiply::detail::TracePoint::p)
#else
#define MPIPLY_TRACE(p) ((void)0)
#endif

}  // namespace mpiply::detail
