// Rank 0's side of pull_into payloads (include/mpiply/detail/pull_into.hpp): the result said a
// payload of n bytes follows from its engine; it is received straight into the memory the
// result's state names (the caller's span), or, when that state has no room of that size,
// received and dropped and the task failed with the state's reason. Nothing of it is kept by
// the hub: the kept item is the small marker the engine sent.
#include <algorithm>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/wire.hpp>

#include "client_core.hpp"
#include "mpi_check.hpp"

namespace mpiply::detail {

void with_client_lock(ClientCore& core, void (*f)(void*), void* arg) {
  std::lock_guard lk(core.mu);
  f(arg);
}

bool ClientCore::take_payload_locked(int e, TaskRecord& rec, MsgId id, std::uint64_t bytes) {
  std::string why = "this task's result cannot take a payload (ranks running different builds?)";
  std::span<char> dst;
  if (rec.state) dst = rec.state->payload_destination(rec.first_item, e, bytes, why);
  bool into = dst.size() == bytes;
  Bytes dropped;
  for (std::uint64_t off = 0; off < bytes; off += kSegmentPiece) {
    std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(kSegmentPiece, bytes - off));
    char* to;
    if (into) {
      to = dst.data() + off;
    } else {
      dropped.resize(len);
      to = dropped.data();
    }
    mpi_check(MPI_Recv(to, static_cast<int>(len), MPI_BYTE, e + 1, kTagPayload, comm_,
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
  if (into) return true;
  fail_items_locked(rec, id, ErrorKind::decode, why);
  return false;
}

}  // namespace mpiply::detail
