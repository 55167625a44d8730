#pragma once
// An engine that runs several tasks at once (MPIPLY_ENGINE_THREADS > 1). The engine's own thread
// stays the only one that calls MPI: it receives task messages, hands calls to worker threads and
// sends their results back in the order the tasks arrived, so rank 0 sees exactly the protocol
// of a single-threaded engine (each result answers the oldest task outstanding there).
#include <cstdint>

#include <mpi.h>

#include <mpiply/engine.hpp>

namespace mpiply::detail {

// Serves until the stop message with `threads` (2 or more) worker threads; returns its exit code.
int serve_threaded(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns, int threads);

}  // namespace mpiply::detail
