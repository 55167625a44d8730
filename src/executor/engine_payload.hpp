#pragma once
// The engine side of pull_into (include/mpiply/detail/pull_into.hpp): a pull that may answer
// with a payload leaves the bytes to send here, and the serve loop sends them to rank 0 right
// after the result message (kTagPayload, in pieces of at most kSegmentPiece). Only an engine
// rank's MPI thread allows payloads (PayloadThread); engines that run on rank 0 (one rank,
// client_runs_tasks) answer with the value inside the result, as a plain pull.
#include <span>

#include <mpi.h>

namespace mpiply::detail {

// Values smaller than this travel inside the result: a second message costs more than the copy.
inline constexpr std::size_t kPayloadMinBytes = std::size_t(64) << 10;

// While one lives, this thread may answer pulls with payloads.
class PayloadThread {
 public:
  PayloadThread();
  ~PayloadThread();
  PayloadThread(const PayloadThread&) = delete;
  PayloadThread& operator=(const PayloadThread&) = delete;
};
bool payloads_allowed() noexcept;

// bytes must stay valid until send_pending_payload (the namespace does not change in between:
// pulls run while no task runs).
void set_pending_payload(std::span<const char> bytes) noexcept;
// Sends the pending payload, if any, to rank 0 and forgets it. Call after each result message.
void send_pending_payload(MPI_Comm comm);

}  // namespace mpiply::detail
