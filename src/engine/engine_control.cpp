// Control messages on an engine. A message that does not make sense (a kind this build does not
// know) is reported on stderr and dropped: it must not stop the engine.
#include "engine/engine_control.hpp"

#include <cstdio>

#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"
#include "isolation/signal_list_entry.hpp"

namespace mpiply::detail {

ControlInbox::ControlInbox(MPI_Comm comm) : comm_(comm) { post(); }

ControlInbox::~ControlInbox() {
  if (req_ == MPI_REQUEST_NULL) return;
  MPI_Cancel(&req_);
  MPI_Wait(&req_, MPI_STATUS_IGNORE);
}

void ControlInbox::post() {
  mpi_check(MPI_Irecv(&msg_, sizeof msg_, MPI_BYTE, 0, kTagControl, comm_, &req_), "MPI_Irecv");
}

void ControlInbox::poll() {
  NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
  for (;;) {
    int done = 0;
    MPI_Status st;
    mpi_check(MPI_Test(&req_, &done, &st), "MPI_Test");
    if (!done) return;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if (count == sizeof msg_ && msg_.kind == ControlKind::signal) {
      signal_running_tasks(msg_.value);
    } else {
      std::fprintf(stderr, "mpiply: an engine got a control message it does not know (%d bytes, "
                   "kind %d); ignored\n", count, static_cast<int>(msg_.kind));
    }
    post();
  }
}

}  // namespace mpiply::detail
