// Exit-code program: a task that never returns (it blocks in pause(), waiting for a signal that
// never comes) is still running when client_main returns. Shutdown must not wait for it forever:
// after MPIPLY_SHUTDOWN_GRACE seconds rank 0 lists the tasks still on engines and ends the job
// with kExitShutdownTimeout through MPI_Abort (the stuck engine cannot read a stop message).
#include <unistd.h>

#include <mpiply/mpiply.hpp>

int hang_forever() {
  for (;;) pause();  // a deliberate hang; only the job's end stops it
}
MPIPLY_REGISTER(hang_forever);

int quick(int x) { return x; }
MPIPLY_REGISTER(quick);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& c) {
    auto last = c[-1];
    last.apply(quick, 1);                     // msg id 0, done before the hang
    auto stuck = last.apply_async(hang_forever);  // msg id 1: runs forever
    auto behind = last.apply_async(quick, 2);     // msg id 2: waits behind it on that engine
    (void)stuck;
    (void)behind;
    return 0;
  });
}
