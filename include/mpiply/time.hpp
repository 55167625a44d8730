#pragma once
// Time types used in metadata and timeouts. Engine timestamps are aligned to rank 0's clock at
// start-up, so every TimePoint in one job is comparable with every other.
#include <chrono>

namespace mpiply {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::duration<double>;

}  // namespace mpiply
