// Rank 0's links to its engines (engine_links.hpp): a task's message sent (or handed to rank 0's
// own engine), results polled from the inbox, whether a message has left rank 0, and the stop
// message at the end.
#include "client/engine_links.hpp"

#include <algorithm>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/result_handler.hpp"
#include "support/clock.hpp"
#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

EngineLinks::EngineLinks(const EngineRoster& roster, const TaskTable& table,
                         ResultHandler& results, LiveOutputs& live)
    : roster_(roster), table_(table), results_(results), live_(live),
      rank0_engine_(roster, results) {
  slots_.resize(roster_.num_engines());
  for (auto& s : slots_) s.ring.resize(static_cast<std::size_t>(roster_.hwm()));
  if (!roster_.inline_mode()) {
    inbox_ = std::make_unique<ResultInbox>(roster_.comm(), roster_.mpi_engines());
    abort_out_ = std::make_unique<AbortOutbox>(roster_.comm());
  }
}

void EngineLinks::transmit_locked(int e, InFlight& f, std::span<const char> msg,
                                  const std::vector<Segment>& segs) {
  if (roster_.inline_mode() || e == roster_.local_id()) {
    rank0_engine_.submit_locked(e, msg, segs);
    return;
  }
  int dest = e + 1;
  isend_message(roster_.comm(), dest, kTagTask, kTagBigTask, msg, kTaskInboxBytes, f.env, f.req,
                f.big_req);
  f.seg_reqs.clear();
  for (const Segment& sg : segs) {
    for (std::size_t off = 0; off < sg.size; off += kSegmentPiece) {
      std::size_t len = std::min<std::size_t>(kSegmentPiece, sg.size - off);
      MPI_Request r;
      mpi_check(MPI_Isend(sg.data + off, static_cast<int>(len), MPI_BYTE, dest, kTagSegment,
                          roster_.comm(), &r),
                "MPI_Isend");
      f.seg_reqs.push_back(r);
    }
  }
}

bool EngineLinks::poll_results_locked() {
  int n = inbox_->poll([this](int e, const char* p, std::size_t len) {
    results_.handle_result_locked(e, p, len, now_ns());
  });
  if (live_.streaming())  // stream hook: running tasks' output and data (live_outputs.hpp)
    n += live_.poll(roster_.comm(), [this](MsgId id, int& e) {
      if (id < table_.base_locked() || id >= table_.next_msg_locked() ||
          table_.record(id).status != TaskStatus::sent)
        return false;
      e = table_.record(id).engine;
      return true;
    });
  n += rank0_engine_.poll_locked();
  return n > 0;
}

bool EngineLinks::sent_locked(MsgId first, std::uint32_t n) {
  for (MsgId id = first; id < first + n; ++id)
    if (!sent_locked(id)) return false;
  return true;
}

bool EngineLinks::sent_locked(MsgId id) {
  {
    const TaskRecord& r = table_.record(id);
    if (r.status == TaskStatus::queued) return false;
    if (r.status != TaskStatus::sent || roster_.inline_mode()) return true;
    EngineSlot& s = slots_[r.engine];
    for (unsigned k = 0; k < s.count; ++k) {
      InFlight& f = s.ring[(s.head + k) % s.ring.size()];
      if (f.msg != id) continue;
      NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
      int done = 0;
      mpi_check(MPI_Test(&f.req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      mpi_check(MPI_Test(&f.big_req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      if (!f.seg_reqs.empty()) {
        mpi_check(MPI_Testall(static_cast<int>(f.seg_reqs.size()), f.seg_reqs.data(), &done,
                              MPI_STATUSES_IGNORE),
                  "MPI_Testall");
        if (!done) return false;
      }
    }
  }
  return true;
}

void EngineLinks::close_and_stop(int code) {
  rank0_engine_.close();  // drained: its worker is idle
  inbox_.reset();
  abort_out_.reset();  // its sends complete: every engine still has its abort receive posted
  TaskHeader h{};
  h.kind = Kind::stop;
  h.fn_id = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
  for (int e = 0; e < roster_.mpi_engines(); ++e)
    mpi_check(MPI_Send(&h, sizeof h, MPI_BYTE, e + 1, kTagTask, roster_.comm()),
              "MPI_Send");
}

}  // namespace mpiply::detail
