#pragma once
// What the forked worker process runs: tasks from its end of the ring, one after the other, on
// its copy of the engine, until it must leave. It never calls MPI and leaves only with _exit.
#include <sys/types.h>

#include <cstdint>

#include <mpiply/engine.hpp>

#include "isolation/shm_ring.hpp"

namespace mpiply::detail {

// The worker's exit status when it cannot go on (e.g. no memory for a result in shared memory).
inline constexpr int kWorkerBroken = 121;
// The worker's exit status when it leaves after a task changed its namespace: the tasks posted
// behind that one must run on a fresh copy of the engine, so it runs none of them.
inline constexpr int kWorkerRetired = 122;

// The child's side of fork (WorkerProcess): sets the process up, then serves ring's requests.
// `parent` is the engine's pid: the worker leaves once it is no longer its parent.
[[noreturn]] void worker_main(Engine& eng, ShmRing& ring, std::int64_t clock_offset_ns,
                              pid_t parent);

}  // namespace mpiply::detail
