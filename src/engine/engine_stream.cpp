// Sending running tasks' output and published data to rank 0 (engine_stream.hpp).
#include "engine/engine_stream.hpp"

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/clock.hpp"
#include "support/mpi_check.hpp"
#include "executor/output_capture.hpp"
#include "executor/published_data.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

EngineStreamer::EngineStreamer(MPI_Comm comm)
    : comm_(comm), interval_ns_(settings().stream_interval_ms * 1'000'000) {}

void EngineStreamer::poll() {
  std::int64_t now = steady_ns();
  if (now < next_ns_) return;
  next_ns_ = now + interval_ns_;
  send_now();
}

void EngineStreamer::send_now() {
  auto send = [&] {
    // Blocking: rank 0 probes for these while any task is out, and the send must leave
    // before the task's result does (both from this thread).
    mpi_check(MPI_Send(msg_.data(), static_cast<int>(msg_.size()), MPI_BYTE, 0, kTagStream,
                       comm_),
              "MPI_Send");
  };
  LiveChunk chunk;
  if (read_live_output(chunk) && (!chunk.text[0].empty() || !chunk.text[1].empty())) {
    // Pieces of at most 64 MiB, so a message's size always fits an int.
    constexpr std::size_t kPiece = std::size_t(64) << 20;
    for (int i = 0; i < 2; ++i) {
      const std::string& t = chunk.text[i];
      for (std::size_t off = 0; off < t.size(); off += kPiece) {
        msg_.clear();
        Writer w(msg_);
        w.u64(chunk.msg);
        w.u8(i == 0 ? kStreamOut : kStreamErr);
        w.u64(chunk.offset[i] + off);
        w.str(std::string_view(t).substr(off, kPiece));
        send();
      }
    }
  }
  for (auto& [msg, enc] : take_live_data()) {
    msg_.clear();
    Writer w(msg_);
    w.u64(msg);
    w.u8(kStreamData);
    w.str(enc);
    send();
  }
}

}  // namespace mpiply::detail
