// The MPI thread level mpiply asks for (thread_level.hpp).
#include "runtime/thread_level.hpp"

#include <mpi.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace mpiply::detail {

bool mpi_is_open_mpi() noexcept {
#ifdef OPEN_MPI
  return true;
#else
  return false;
#endif
}

const char* thread_level_name(int level) noexcept {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    default: return "MPI_THREAD_MULTIPLE";
  }
}

ThreadLevelChoice choose_thread_level(const char* value, bool open_mpi) {
  ThreadLevelChoice c;
  c.needed = open_mpi ? MPI_THREAD_SINGLE : MPI_THREAD_SERIALIZED;
  c.requested = c.needed;
  if (!value || !*value) return c;
  std::string name(value);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::string_view v = name;
  if (v.starts_with("mpi_thread_")) v.remove_prefix(11);
  if (v == "single") c.requested = MPI_THREAD_SINGLE;
  else if (v == "funneled") c.requested = MPI_THREAD_FUNNELED;
  else if (v == "serialized") c.requested = MPI_THREAD_SERIALIZED;
  else if (v == "multiple") c.requested = MPI_THREAD_MULTIPLE;
  else {
    c.error = fmt::format(
        "mpiply: MPIPLY_MPI_THREAD_LEVEL='{}' is not an MPI thread level; use single, funneled, "
        "serialized or multiple, or unset it ({} on this MPI)",
        value, thread_level_name(c.needed));
    return c;
  }
  if (c.requested >= c.needed) {
    c.needed = c.requested;
    c.named = true;
  } else {
    c.error = fmt::format(
        "mpiply: MPIPLY_MPI_THREAD_LEVEL='{}' is below what mpiply needs on this MPI ({}: rank 0 "
        "runs a progress thread that takes turns with the user's); use serialized or multiple, or "
        "unset it",
        value, thread_level_name(c.needed));
  }
  return c;
}

}  // namespace mpiply::detail
