#pragma once
// Nanosecond clocks as integers. now_ns() is the wall clock, the unit of every timestamp on the
// wire and in the task table; steady_ns() is for measuring intervals (back-off windows,
// deadlines), where a wall-clock step must not matter.
#include <chrono>
#include <cstdint>

#include <mpiply/time.hpp>

namespace mpiply::detail {

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             WallClock::now().time_since_epoch())
      .count();
}
inline std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}
inline TimePoint to_time_point(std::int64_t ns) noexcept {
  return TimePoint(std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace mpiply::detail
