// Abort messages: rank 0 sends msg ids, an engine answers those tasks without running them.
#include "engine/engine_abort.hpp"

#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"
#include "wire/result_codec.hpp"

namespace mpiply::detail {

AbortOutbox::~AbortOutbox() {
  for (auto& p : pending_) MPI_Wait(&p.req, MPI_STATUS_IGNORE);
}

void AbortOutbox::send(int rank, const std::vector<MsgId>& ids) {
  // Completed sends give their buffers back first.
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    mpi_check(MPI_Test(&it->req, &done, MPI_STATUS_IGNORE), "MPI_Test");
    it = done ? pending_.erase(it) : std::next(it);
  }
  for (std::size_t at = 0; at < ids.size(); at += kAbortIdsPerMessage) {
    std::size_t n = std::min(kAbortIdsPerMessage, ids.size() - at);
    Pending& p = pending_.emplace_back();
    p.ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(at),
                 ids.begin() + static_cast<std::ptrdiff_t>(at + n));
    mpi_check(MPI_Isend(p.ids.data(), static_cast<int>(n * sizeof(MsgId)), MPI_BYTE, rank,
                        kTagAbort, comm_, &p.req),
              "MPI_Isend");
  }
}

EngineAborts::EngineAborts(MPI_Comm comm) : comm_(comm), buf_(kAbortIdsPerMessage) {
  mpi_check(MPI_Recv_init(buf_.data(), static_cast<int>(buf_.size() * sizeof(MsgId)), MPI_BYTE, 0,
                          kTagAbort, comm_, &req_),
            "MPI_Recv_init");
  mpi_check(MPI_Start(&req_), "MPI_Start");
}

EngineAborts::~EngineAborts() {
  int flag = 0;
  MPI_Test(&req_, &flag, MPI_STATUS_IGNORE);
  if (!flag) {
    MPI_Cancel(&req_);
    MPI_Wait(&req_, MPI_STATUS_IGNORE);
  }
  MPI_Request_free(&req_);
}

bool EngineAborts::poll_due(const Bytes& last_result) {
  if (last_result.size() < sizeof(ResultHeader)) return true;  // the first task
  ResultHeader h;
  std::memcpy(&h, last_result.data(), sizeof h);
  if (h.completed_ns - polled_at_ < 20'000) return false;  // also an aborted answer's 0 stamps
  polled_at_ = h.completed_ns;
  return true;
}

void EngineAborts::poll() {
  NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
  for (;;) {
    int flag = 0;
    MPI_Status st;
    mpi_check(MPI_Test(&req_, &flag, &st), "MPI_Test");
    if (!flag) return;
    int bytes = 0;
    mpi_check(MPI_Get_count(&st, MPI_BYTE, &bytes), "MPI_Get_count");
    {
      std::lock_guard lk(mu_);
      for (std::size_t i = 0; i < static_cast<std::size_t>(bytes) / sizeof(MsgId); ++i)
        ids_.insert(buf_[i]);
      any_.store(true, std::memory_order_release);
    }
    mpi_check(MPI_Start(&req_), "MPI_Start");
  }
}

bool EngineAborts::answer_if_aborted(std::span<const char> msg, const Engine& eng, Bytes& out) {
  if (!any_.load(std::memory_order_acquire) || msg.size() < sizeof(TaskHeader)) return false;
  TaskHeader h;
  std::memcpy(&h, msg.data(), sizeof h);
  // Only calls: a push's segments follow it over MPI and must be received, and namespace
  // operations are quick.
  if (h.kind != Kind::call || h.nitems > msg.size() / 4) return false;
  {
    std::lock_guard lk(mu_);
    if (ids_.erase(h.msg_id) == 0) return false;
    if (ids_.empty()) any_.store(false, std::memory_order_release);
  }
  out.clear();
  Writer w(out);
  ResultHeader rh{};
  rh.msg_id = h.msg_id;
  rh.nitems = h.nitems;  // started/completed stay 0: it never ran
  w.pod(rh);
  std::string why = fmt::format(
      "aborted by the client while it waited on engine {}; it never ran (abort stops only "
      "tasks not yet started: a running task finishes, stopping running code needs a run-time "
      "limit)",
      eng.id());
  for (std::uint32_t i = 0; i < h.nitems; ++i)
    write_error_item(w, ErrorKind::aborted, error_type_name(ErrorKind::aborted), why);
  return true;
}

}  // namespace mpiply::detail
