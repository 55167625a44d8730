#pragma once
// Wall-clock nanoseconds, the unit of every timestamp on the wire.
#include <chrono>
#include <cstdint>

#include <mpiply/time.hpp>

namespace mpiply::detail {

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}
inline TimePoint to_time_point(std::int64_t ns) noexcept {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace mpiply::detail
