// The engine loop: tests its posted task receives (src/transport.*) with spin-then-sleep back-off,
// so an idle engine sleeps instead of burning a core while back-to-back tasks need no sleep.
#include "engine_loop.hpp"

#include <mpiply/detail/wire.hpp>

#include "backoff.hpp"
#include "engine_abort.hpp"
#include "engine_workers.hpp"
#include "executor.hpp"
#include "mpi_check.hpp"
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

int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  if (int threads = settings().engine_threads; threads > 1)
    return serve_threaded(comm, eng, clock_offset_ns, threads);
  Bytes out;
  MpiSegments segs(comm);
  TaskInbox inbox(comm);
  Backoff b(kEngineBackoff);
  EngineAborts aborts(comm);
  for (;;) {
    std::span<const char> msg;
    if (!inbox.poll(msg)) {
      if (!b.spinning()) b.sleep();
      continue;
    }
    b.reset();
    ExecResult res = aborts.answered(msg, eng, out)
                         ? ExecResult{}
                         : execute_task(eng, msg.data(), msg.size(), segs, out, clock_offset_ns);
    if (res.stop) return res.stop_code;
    if (out.size() > max_message_bytes()) replace_with_too_large(out);
    send_message(comm, 0, kTagResult, kTagBigResult, {out.data(), out.size()}, kResultInboxBytes);
  }
}

}  // namespace mpiply::detail
