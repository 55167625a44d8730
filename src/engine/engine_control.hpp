#pragma once
// An engine's receiver of control messages from rank 0 (kTagControl, wire.hpp): requests that
// must reach the engine while its tasks run, outside the task stream. Today one kind: send_signal,
// delivered to the worker processes of the isolated tasks running when the engine reads it.
// Only the engine's MPI thread may poll it.
#include <mpi.h>

#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

class ControlInbox {
 public:
  explicit ControlInbox(MPI_Comm comm);  // posts the receive
  ~ControlInbox();                       // cancels it
  ControlInbox(const ControlInbox&) = delete;
  ControlInbox& operator=(const ControlInbox&) = delete;

  // Acts on every control message that has arrived.
  void poll();
  // For WaitHook: poll() through a void*.
  static void poll_hook(void* self) { static_cast<ControlInbox*>(self)->poll(); }

 private:
  void post();
  MPI_Comm comm_;
  MPI_Request req_ = MPI_REQUEST_NULL;
  ControlMessage msg_{};
};

}  // namespace mpiply::detail
