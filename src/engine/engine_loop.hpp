#pragma once
// An engine rank's life: receive a task, run it, send the result, until the stop message.
#include <cstdint>

#include <mpi.h>

#include <mpiply/engine.hpp>

#include "executor/executor.hpp"

namespace mpiply::detail {

// The segments of a push, received from rank 0 by the engine's MPI thread.
class MpiSegments : public SegmentFetcher {
 public:
  explicit MpiSegments(MPI_Comm comm) : comm_(comm) {}
  void fetch(char* dst, std::size_t n) override;

 private:
  MPI_Comm comm_;
};

// Returns the exit code carried by the stop message. With settings().engine_threads above 1 the
// tasks run on worker threads (engine_workers.hpp); with 1, on this thread, as always.
int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns);

}  // namespace mpiply::detail
