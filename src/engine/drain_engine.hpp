#pragma once
// An engine's side of a graceful drain (docs/drain.md): once the drain signal reached this rank,
// a call that has not started is answered at once as not run (every item a TaskAborted) instead
// of being executed, so an engine finishes only what is already running. Every task rank 0 sent
// still gets its answer, so rank 0's bookkeeping stays exact.
#include <cstddef>
#include <cstdint>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>

namespace mpiply::detail {

// When draining and msg is a well-formed call: writes its not-run answer into out and returns
// true. Otherwise (no drain, or a push, pull, clear, stop, or unreadable message) returns false
// and the caller runs the message as usual.
bool answer_if_draining(const Engine& eng, const char* msg, std::size_t n, Bytes& out,
                        std::int64_t clock_offset_ns);

}  // namespace mpiply::detail
