// Finds Open MPI's yield-when-idle flag (see idle_yield.hpp).
#include "support/idle_yield.hpp"

#include <dlfcn.h>

namespace mpiply::detail {

bool* mpi_idle_yield_flag() noexcept {
  return static_cast<bool*>(dlsym(RTLD_DEFAULT, "opal_progress_yield_when_idle"));
}

}  // namespace mpiply::detail
