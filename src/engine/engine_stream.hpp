#pragma once
// The engine side of live output (MPIPLY_STREAM, docs/output.md): the engine's MPI thread, while
// a worker thread runs a task, sends rank 0 what the task wrote since the last look and the data
// it published, every stream interval, as kTagStream messages (wire.hpp). The task's result
// still carries its whole output and data: these messages only show them early.
#include <cstdint>

#include <mpi.h>

#include <mpiply/detail/bytes.hpp>

namespace mpiply::detail {

class EngineStreamer {
 public:
  explicit EngineStreamer(MPI_Comm comm);
  // Cheap unless an interval has passed since the last send (one clock read).
  void poll();

 private:
  void send_now();
  MPI_Comm comm_;
  std::int64_t interval_ns_;
  std::int64_t next_ns_ = 0;
  Bytes msg_;
};

}  // namespace mpiply::detail
