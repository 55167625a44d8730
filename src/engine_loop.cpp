// The engine loop: matched probe with spin-then-sleep back-off so an idle engine sleeps instead of
// burning a core, while back-to-back tasks are picked up without any sleep.
#include "engine_loop.hpp"

#include <mpiply/detail/wire.hpp>

#include "backoff.hpp"
#include "executor.hpp"
#include "mpi_check.hpp"

namespace mpiply::detail {

namespace {

class MpiSegments : public SegmentFetcher {
 public:
  explicit MpiSegments(MPI_Comm comm) : comm_(comm) {}
  void fetch(char* dst, std::size_t n) override {
    for (std::size_t off = 0; off < n; off += kSegmentPiece) {
      std::size_t len = std::min<std::size_t>(kSegmentPiece, n - off);
      mpi_check(MPI_Recv(dst + off, static_cast<int>(len), MPI_BYTE, 0, kTagSegment, comm_,
                         MPI_STATUS_IGNORE),
                "MPI_Recv");
    }
  }

 private:
  MPI_Comm comm_;
};

}  // namespace

int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  Bytes in, out;
  MpiSegments segs(comm);
  Backoff b(kEngineBackoff);
  for (;;) {
    int flag = 0;
    MPI_Message m;
    MPI_Status st;
    mpi_check(MPI_Improbe(0, kTagTask, comm, &flag, &m, &st), "MPI_Improbe");
    if (!flag) {
      if (!b.spinning()) b.sleep();
      continue;
    }
    b.reset();
    int count = 0;
    mpi_check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
    in.resize(static_cast<std::size_t>(count));
    mpi_check(MPI_Mrecv(in.data(), count, MPI_BYTE, &m, MPI_STATUS_IGNORE), "MPI_Mrecv");
    ExecResult res = execute_task(eng, in.data(), in.size(), segs, out, clock_offset_ns);
    if (res.stop) return res.stop_code;
    mpi_check(MPI_Send(out.data(), static_cast<int>(out.size()), MPI_BYTE, 0, kTagResult, comm),
              "MPI_Send");
  }
}

}  // namespace mpiply::detail
