#pragma once
// An engine's sender of result messages. A result goes to rank 0 at once, or, when rank 0 sent
// its task in a bundle of short calls (wire/bundle.hpp, kBundleHoldResults) and the bundle's next
// piece runs right after it, waits for the results of those pieces and leaves with them in one
// message: rank 0 then pays one message's cost for several results.
//
// What holding costs: a held result reaches rank 0 later, by the run time of the pieces after it.
// Rank 0 asks for it only when every task of the bundle comes from a submission whose last
// finished task ran within kHoldResultsNs (wire/bundle.hpp). The engine sends what it holds when
// the bundle ends, or once the oldest held result completed kHoldResultsNs before the newest.
// A held result is lost if the engine dies before the bundle ends (unlike a result sent at once).
#include <cstdint>

#include <mpi.h>

#include <mpiply/detail/bytes.hpp>

#include "wire/bundle.hpp"

namespace mpiply::detail {

class ResultOutbox {
 public:
  explicit ResultOutbox(MPI_Comm comm) : comm_(comm) {}
  ResultOutbox(const ResultOutbox&) = delete;
  ResultOutbox& operator=(const ResultOutbox&) = delete;
  // Sends res (a result message within the message limit), after any held ones; with hold, it may
  // be kept instead, to go with the next result.
  void send(const Bytes& res, bool hold);
  // Sends every held result now.
  void flush();
  std::uint32_t held() const { return writer_.count(); }

 private:
  MPI_Comm comm_;
  Bytes bundle_;
  BundleWriter writer_{bundle_};
  std::int64_t first_completed_ = 0;  // the oldest held result's completion
};

// Whether a task message may have its result held (a plain call: no payload follows its result,
// it is not isolated, not a team member), given where it came from: a bundle whose flags ask it,
// with pieces still to come.
bool may_hold_result(const char* task, std::size_t n, std::uint32_t bundle_flags,
                     std::uint32_t pieces_left);

}  // namespace mpiply::detail
