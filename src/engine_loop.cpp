// The engine loop: tests its posted task receives (src/transport.*) with spin-then-sleep back-off,
// so an idle engine sleeps instead of burning a core while back-to-back tasks need no sleep.
#include "engine_loop.hpp"

#include <mpiply/detail/wire.hpp>

#include "backoff.hpp"
#include "drain_engine.hpp"
#include "engine_abort.hpp"
#include "engine_control.hpp"
#include "engine_workers.hpp"
#include "executor.hpp"
#include "isolation.hpp"
#include "mpi_check.hpp"
#include "output_capture.hpp"
#include "published_data.hpp"
#include "settings.hpp"
#include "transport.hpp"

namespace mpiply::detail {

void MpiSegments::fetch(char* dst, std::size_t n) {
  for (std::size_t off = 0; off < n; off += kSegmentPiece) {
    std::size_t len = std::min<std::size_t>(kSegmentPiece, n - off);
    mpi_check(MPI_Recv(dst + off, static_cast<int>(len), MPI_BYTE, 0, kTagSegment, comm_,
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
}

namespace {

// Capture on: descriptors 1 and 2 stay on the memory files while this engine serves (one lseek
// per stream per task instead of four dup2), and are put back when it stops.
struct CaptureForServe {
  CaptureForServe() {
    if (settings().capture_output) output_capture_keep_redirected();
    set_live_data(settings().stream_output);
  }
  ~CaptureForServe() {
    output_capture_release();
    set_live_data(false);
  }
};

int serve_one_thread(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns);

}  // namespace

int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  CaptureForServe capture;
  // Streaming needs this thread free for MPI while tasks run: they go to a worker thread.
  if (int threads = settings().engine_threads; threads > 1 || settings().stream_output)
    return serve_threaded(comm, eng, clock_offset_ns, threads);
  return serve_one_thread(comm, eng, clock_offset_ns);
}

namespace {

int serve_one_thread(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  Bytes out;
  MpiSegments segs(comm);
  TaskInbox inbox(comm);
  // Control messages matter only while an isolated task runs, which is when the hook reads them.
  ControlInbox control(comm);
  WaitHook hook{&ControlInbox::poll_hook, &control};
  Isolation iso;
  Backoff b(kEngineBackoff);
  EngineAborts aborts(comm);
  for (;;) {
    std::span<const char> msg;
    if (!inbox.poll(msg)) {
      if (!b.spinning()) b.sleep();
      continue;
    }
    b.reset();
    // abort hook: a task aborted on rank 0 is answered without running; drain hook: a call
    // that has not started is answered as not run.
    ExecResult res;
    if (!aborts.answered(msg, eng, out) &&
        !answer_if_draining(eng, msg.data(), msg.size(), out, clock_offset_ns))
      res = iso.run(eng, msg.data(), msg.size(), segs, out, clock_offset_ns, hook);
    if (res.stop) return res.stop_code;
    if (out.size() > max_message_bytes()) replace_with_too_large(out);
    send_message(comm, 0, kTagResult, kTagBigResult, {out.data(), out.size()}, kResultInboxBytes);
  }
}

}  // namespace

}  // namespace mpiply::detail
