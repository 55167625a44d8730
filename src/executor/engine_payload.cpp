// Payload messages of pull_into, engine side (engine_payload.hpp).
#include "executor/engine_payload.hpp"

#include <algorithm>

#include <mpiply/detail/wire.hpp>

#include "support/mpi_check.hpp"

namespace mpiply::detail {

namespace {
thread_local bool t_allowed = false;
thread_local std::span<const char> t_pending;
}  // namespace

PayloadThread::PayloadThread() { t_allowed = true; }
PayloadThread::~PayloadThread() {
  t_allowed = false;
  t_pending = {};
}

bool payloads_allowed() noexcept { return t_allowed; }

void set_pending_payload(std::span<const char> bytes) noexcept { t_pending = bytes; }

void send_pending_payload(MPI_Comm comm) {
  if (t_pending.empty()) return;
  std::span<const char> p = t_pending;
  t_pending = {};
  for (std::size_t off = 0; off < p.size(); off += kSegmentPiece) {
    std::size_t len = std::min<std::size_t>(kSegmentPiece, p.size() - off);
    mpi_check(MPI_Send(p.data() + off, static_cast<int>(len), MPI_BYTE, 0, kTagPayload, comm),
              "MPI_Send");
  }
}

}  // namespace mpiply::detail
