#pragma once
// The MPI thread level mpiply asks for when it initialises MPI, and the lowest it accepts.
//
// Every MPI call mpiply makes on a rank is made by one thread at a time: on rank 0 the progress
// thread and the thread waiting on a result take turns under the client lock, and on an engine
// only the engine loop's thread calls MPI. That is what MPI_THREAD_SERIALIZED promises, and what
// any MPI other than Open MPI is asked for. Open MPI's SINGLE, FUNNELED and SERIALIZED differ in
// one thing only: above MPI_THREAD_SINGLE it takes its own locks, and uses atomic operations,
// inside every call (opal_using_threads), to guard against calls from several threads at once.
// mpiply's lock already keeps its calls apart and orders them, so on Open MPI it asks for
// MPI_THREAD_SINGLE and those locks are not taken (docs/architecture.md, "Threads and MPI"; the
// cost they add is in docs/benchmarks-log.md). MPIPLY_MPI_THREAD_LEVEL asks for another level,
// e.g. "multiple" for a program whose own threads call MPI at once before or after mpiply::run.
#include <string>

namespace mpiply::detail {

// Built against Open MPI (whose mpi.h defines OPEN_MPI).
bool mpi_is_open_mpi() noexcept;

struct ThreadLevelChoice {
  int requested = 0;  // the MPI_THREAD_* constant mpiply passes to MPI_Init_thread
  // The lowest level mpiply runs on (granted by MPI or chosen by the program): what mpiply needs
  // on this MPI, or the level MPIPLY_MPI_THREAD_LEVEL names (the program asked for it).
  int needed = 0;
  bool named = false;  // needed comes from MPIPLY_MPI_THREAD_LEVEL
  std::string error;  // a bad MPIPLY_MPI_THREAD_LEVEL: what is wrong and how to fix it
};

// value: MPIPLY_MPI_THREAD_LEVEL (null or empty: unset); one of single, funneled, serialized,
// multiple, in any case, with or without the MPI_THREAD_ prefix.
ThreadLevelChoice choose_thread_level(const char* value, bool open_mpi);

const char* thread_level_name(int level) noexcept;

}  // namespace mpiply::detail
