#pragma once
// Runs one task message against an engine and encodes the result message. Used by engine ranks
// and, in single-rank mode, by rank 0 itself, so both exercise the same wire format.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

// Where the segments that follow a push message come from: MPI, or memory when inline.
class SegmentFetcher {
 public:
  virtual ~SegmentFetcher() = default;
  virtual void fetch(char* dst, std::size_t n) = 0;
};

struct ExecResult {
  bool stop = false;
  int stop_code = 0;
};

// clock_offset_ns is subtracted from local time so stamps are on rank 0's clock. A message that
// does not decode is answered like any failing task, with error items for its msg id (msg id 0
// if even the header is missing), never by throwing: one bad task must not stop the engine.
ExecResult execute_task(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs,
                        Bytes& out, std::int64_t clock_offset_ns);

// The result of a call message none of whose items came back (its worker process died, or ran
// past its time limit): every item fails with this error. Stamps are on rank 0's clock.
void answer_failed_call(const char* msg, std::size_t n, Bytes& out, std::int64_t started_ns,
                        std::int64_t completed_ns, ErrorKind kind, std::string_view evalue);

}  // namespace mpiply::detail
