#pragma once
// Done callbacks waiting to run. A result that finishes with callbacks attached moves them here
// under the client lock; whichever thread drove that progress (the progress thread, or a user
// thread inside a wait) runs them once it has released the lock. A callback that throws is
// reported on stderr with its function name and msg ids; the others still run.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

struct PendingCallback {
  std::function<void()> fn;
  std::string fname;  // the result's function, for the report if fn throws
  MsgId first_msg = 0;
  std::uint32_t ntasks = 0;
};

// Runs every callback in order, lock NOT held. Never throws.
void run_callbacks(std::vector<PendingCallback>& cbs) noexcept;

}  // namespace mpiply::detail
