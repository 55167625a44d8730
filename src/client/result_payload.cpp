// Rank 0's side of pull_into payloads (include/mpiply/detail/pull_into.hpp): the result said a
// payload of n bytes follows from its engine; it is received straight into the memory the
// result's state names (the caller's span), or, when that state has no room of that size,
// received and dropped and the task failed with the state's reason. Nothing of it is kept by
// the hub: the kept item is the small marker the engine sent.
#include <algorithm>

#include <fmt/format.h>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/result_handler.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

bool ResultHandler::take_payload_locked(int e, TaskRecord& rec, MsgId id, std::uint64_t bytes) {
  // Only an engine rank sends payloads, and only for a pull_into: anything else is a corrupt
  // header, and nothing is received (no message follows it).
  // The submission's result state, while this task has not delivered to it yet.
  ResultStateBase* state =
      (rec.hub & kStateTaken) ? nullptr : table_.submissions().submission(id).state.get();
  if (roster_.inline_mode() || e == roster_.local_id() || !state || !state->takes_payload()) {
    fail_items_locked(rec, id, ErrorKind::decode,
                      fmt::format("engine {} sent a malformed result for msg {}: it announces a "
                                  "{}-byte payload, which this task did not ask for; nothing was "
                                  "received. Every item of the task failed; the job goes on (a "
                                  "corrupt message, or ranks running different builds of the "
                                  "program)",
                                  e, id, bytes));
    return false;
  }
  std::string why = "this task's result cannot take a payload (ranks running different builds?)";
  std::span<char> dst;
  dst = state->payload_destination(rec.first_item, e, bytes, why);
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
    mpi_check(MPI_Recv(to, static_cast<int>(len), MPI_BYTE, e + 1, kTagPayload, roster_.comm(),
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
  if (into) return true;
  fail_items_locked(rec, id, ErrorKind::decode, why);
  return false;
}

}  // namespace mpiply::detail
