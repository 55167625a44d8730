#pragma once
// An engine rank's life: receive a task, run it, send the result, until the stop message.
#include <cstdint>

#include <mpi.h>

#include <mpiply/engine.hpp>

namespace mpiply::detail {

// Returns the exit code carried by the stop message.
int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns);

}  // namespace mpiply::detail
