// Aborting tasks on rank 0 (ar.abort, rc.abort, view.abort). A task still queued on rank 0 fails
// at once with TaskAborted and is skipped when the scheduler reaches it; a task already sent to
// an engine rank is named in an abort message (engine_abort.hpp) and the engine answers it
// without running it, unless it has started. Finished tasks are left as they are.
#include <algorithm>

#include "client/client_core.hpp"

namespace mpiply::detail {

void ClientCore::abort_queued_locked(TaskRecord& rec, MsgId id) {
  --queued_;
  fail_items_locked(rec, id, ErrorKind::aborted, kAbortedQueuedText);
}

std::size_t ClientCore::abort_locked(const std::vector<MsgId>& ids) {
  std::vector<std::vector<MsgId>> to_engine(static_cast<std::size_t>(mpi_engines_));
  std::size_t n = 0;
  for (MsgId id : ids) {
    known_record_locked(id, "abort");
    TaskRecord& rec = record(id);
    if (rec.status == TaskStatus::queued) {
      abort_queued_locked(rec, id);
      ++n;
    } else if (rec.status == TaskStatus::sent) {
      // The inline engine and rank 0's own engine slot have no abort message: their tasks run.
      if (!inline_ && rec.engine >= 0 && rec.engine < mpi_engines_) {
        to_engine[static_cast<std::size_t>(rec.engine)].push_back(id);
        ++n;
      }
    }
  }
  prune_queues_locked();
  for (int e = 0; e < mpi_engines_; ++e)
    if (!to_engine[static_cast<std::size_t>(e)].empty())
      abort_out_->send(e + 1, to_engine[static_cast<std::size_t>(e)]);
  return n;
}

// Aborted tasks leave the queues: direct entries go, load-balanced sources skip aborted tasks at
// their head (one in the middle is skipped when the scheduler reaches it).
void ClientCore::prune_queues_locked() {
  auto aborted = [&](const TaskSource& src, std::uint32_t t) {
    return record(src.first_msg + t).status != TaskStatus::queued;
  };
  for (auto* q : {&lb_, &lb_subset_}) {
    for (auto it = q->begin(); it != q->end();) {
      TaskSource& src = **it;
      while (src.next < src.ntasks && aborted(src, src.next)) ++src.next;
      it = src.next == src.ntasks ? q->erase(it) : std::next(it);
    }
  }
  for (auto& s : slots_) {
    auto gone = std::remove_if(s.direct.begin(), s.direct.end(),
                               [&](const auto& entry) { return aborted(*entry.first, entry.second); });
    s.direct.erase(gone, s.direct.end());
  }
}

}  // namespace mpiply::detail
