// Trace points' buffers and their files (trace_points.hpp). Empty unless the build has
// MPIPLY_TRACE_POINTS.
#include "support/trace_points.hpp"

#ifdef MPIPLY_TRACE_POINTS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace mpiply::detail {

namespace {

constexpr std::uint32_t kEvents = std::uint32_t(1) << 22;  // per thread: ~40 MiB
constexpr int kCalibration = 64;

// Indexed by TracePoint (0: none).
constexpr const char* kNames[] = {
    "",
#define MPIPLY_TRACE_POINT_NAME(name) #name,
    MPIPLY_TRACE_POINT_LIST(MPIPLY_TRACE_POINT_NAME)
#undef MPIPLY_TRACE_POINT_NAME
};

// Every thread's buffer, written out when the process exits (after run() joined its threads).
struct Registry {
  std::mutex mu;
  std::vector<TraceBuffer*> buffers;
  std::int64_t first_ns = 0;  // the ticks against the steady clock, for ticks per nanosecond
  std::uint64_t first_ticks = 0;

  ~Registry() {
    const char* dir = std::getenv("MPIPLY_TRACE_POINTS_DIR");
    if (dir == nullptr || *dir == '\0') return;
    std::lock_guard lk(mu);
    double per_ns = 1;
#if defined(__x86_64__)
    std::int64_t ns = steady_ns() - first_ns;
    if (ns > 0) per_ns = double(trace_ticks() - first_ticks) / double(ns);
#endif
    for (std::size_t t = 0; t < buffers.size(); ++t) {
      std::string path = std::string(dir) + "/" + std::to_string(getpid()) + "-" +
                         std::to_string(t) + ".trace";
      FILE* f = std::fopen(path.c_str(), "w");
      if (f == nullptr) {
        std::fprintf(stderr, "mpiply: trace points: cannot write %s\n", path.c_str());
        continue;
      }
      std::fprintf(f, "ticks_per_ns %.6f\npoints", per_ns);
      for (std::size_t i = 1; i < sizeof(kNames) / sizeof(kNames[0]); ++i)
        std::fprintf(f, " %zu=%s", i, kNames[i]);
      std::fprintf(f, "\n");
      const TraceBuffer& b = *buffers[t];
      for (std::uint32_t i = 0; i < b.n; ++i)
        std::fprintf(f, "%u %llu\n", unsigned(b.points[i]),
                     static_cast<unsigned long long>(b.ticks[i]));
      std::fclose(f);
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

TraceBuffer* trace_buffer() noexcept {
  Registry& r = registry();
  auto* b = new (std::nothrow) TraceBuffer;
  static TraceBuffer none;  // when memory is short: records nothing (cap 0)
  if (b == nullptr) return t_trace = &none;
  b->ticks = new (std::nothrow) std::uint64_t[kEvents];
  b->points = new (std::nothrow) std::uint16_t[kEvents];
  if (b->ticks != nullptr && b->points != nullptr) b->cap = kEvents;
  {
    std::lock_guard lk(r.mu);
    if (r.buffers.empty()) {
      r.first_ns = steady_ns();
      r.first_ticks = trace_ticks();
    }
    r.buffers.push_back(b);
  }
  t_trace = b;
  for (int i = 0; i < kCalibration; ++i) trace(TracePoint::calibrate);
  return b;
}

}  // namespace mpiply::detail
#endif
