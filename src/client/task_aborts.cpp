// Tasks that will not start (task_aborts.hpp): aborted on rank 0 or by an abort message to their
// engine, left without an engine by rc.shutdown(targets), or not run because of a drain.
#include "client/task_aborts.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "client/hub_queries.hpp"
#include "client/result_handler.hpp"
#include "runtime/drain.hpp"
#include "support/clock.hpp"

namespace mpiply::detail {

void TaskAborts::abort_queued_locked(TaskRecord& rec, MsgId id) {
  queues_.left_queue();
  results_.fail_items_locked(rec, id, ErrorKind::aborted, kAbortedQueuedText);
}

std::size_t TaskAborts::abort_locked(const std::vector<MsgId>& ids) {
  std::vector<std::vector<MsgId>> to_engine(static_cast<std::size_t>(roster_.mpi_engines()));
  std::size_t n = 0;
  for (MsgId id : ids) {
    hub_.known_record_locked(id, "abort");
    TaskRecord& rec = table_.record(id);
    if (rec.status == TaskStatus::queued) {
      abort_queued_locked(rec, id);
      ++n;
    } else if (rec.status == TaskStatus::sent) {
      // The inline engine and rank 0's own engine slot have no abort message: their tasks run.
      if (!roster_.inline_mode() && rec.engine >= 0 && rec.engine < roster_.mpi_engines()) {
        to_engine[static_cast<std::size_t>(rec.engine)].push_back(id);
        ++n;
      }
    }
  }
  prune_queues_locked();
  for (int e = 0; e < roster_.mpi_engines(); ++e)
    if (!to_engine[static_cast<std::size_t>(e)].empty())
      links_.send_aborts(e, to_engine[static_cast<std::size_t>(e)]);
  return n;
}

// Aborted tasks leave the queues: direct entries go, load-balanced sources skip aborted tasks at
// their head (one in the middle is skipped when the scheduler reaches it).
void TaskAborts::prune_queues_locked() {
  auto aborted = [&](const TaskSource& src, std::uint32_t t) {
    return table_.record(src.first_msg + t).status != TaskStatus::queued;
  };
  for (auto* q : {&queues_.lb(), &queues_.lb_subset()}) {
    for (auto it = q->begin(); it != q->end();) {
      TaskSource& src = **it;
      while (src.next < src.ntasks && aborted(src, src.next)) ++src.next;
      it = src.next == src.ntasks ? q->erase(it) : std::next(it);
    }
  }
  for (auto& s : links_.slots()) {
    auto gone = std::remove_if(s.direct.begin(), s.direct.end(),
                               [&](const auto& entry) { return aborted(*entry.first, entry.second); });
    s.direct.erase(gone, s.direct.end());
  }
}

void TaskAborts::retire_engines_locked(const std::vector<int>& engines) {
  sched_.shut_down(engines, steady_ns());
  // Plain tasks left without an engine fail now rather than wait for ever.
  auto abort_plain = [this](std::deque<std::shared_ptr<TaskSource>>& q, bool subset) {
    for (auto it = q.begin(); it != q.end();) {
      TaskSource& src = **it;
      if (sched_.placer().engines().any_in_service(subset ? src.candidates : std::vector<int>{})) {
        ++it;
        continue;
      }
      for (std::uint32_t t = src.next; t < src.ntasks; ++t) {
        MsgId id = src.first_msg + t;
        if (table_.record(id).status != TaskStatus::queued) continue;  // aborted already
        results_.fail_queued_locked(id, ErrorKind::aborted,
             "every engine it may run on was shut down (Client::shutdown) before it was sent");
      }
      it = q.erase(it);
    }
  };
  abort_plain(queues_.lb(), false);
  abort_plain(queues_.lb_subset(), true);
}

bool TaskAborts::refuse_retired_locked(const std::shared_ptr<TaskSource>& src) {
  const char* why = "an engine it was to run on was shut down (Client::shutdown) before it was "
                    "submitted";
  auto fail_all = [&] {
    for (std::uint32_t t = 0; t < src->ntasks; ++t)
      results_.fail_queued_locked(src->first_msg + t, ErrorKind::aborted, why);
  };
  if (src->targets.empty()) {
    if (sched_.placer().engines().any_in_service(src->candidates)) return false;
    fail_all();
    return true;
  }
  const EngineStates& ix = sched_.placer().engines();
  if (std::all_of(src->targets.begin(), src->targets.end(), [&](int e) { return ix.in_service(e); }))
    return false;
  // All or nothing: the tasks of one DirectView call may be a collective that every target
  // must join.
  fail_all();
  return true;
}

void TaskAborts::shutdown_locked() {
  const char* why = "client_main returned before this task was sent to an engine";
  auto abort_task = [&](TaskSource& src, std::uint32_t t) {
    MsgId id = src.first_msg + t;
    if (table_.record(id).status != TaskStatus::queued) return;  // aborted already (rc.abort)
    results_.fail_queued_locked(id, ErrorKind::aborted, why);
  };
  for (auto* queue : {&queues_.lb(), &queues_.lb_subset()}) {
    for (auto& src : *queue)
      for (std::uint32_t t = src->next; t < src->ntasks; ++t) abort_task(*src, t);
    queue->clear();
  }
  for (auto& s : links_.slots()) {
    for (auto& [src, t] : s.direct) abort_task(*src, t);
    s.direct.clear();
  }
  sched_.abort_all(why);
}

void TaskAborts::drain_locked() {
  if (queues_.queued() == 0) return;
  std::string why = fmt::format("the job was interrupted by {} before this task started, so it "
                                "was not run; rerun the job to resume",
                                drain_signal_name(drain_signal()));
  auto not_run = [&](TaskSource& src, std::uint32_t t) {
    MsgId id = src.first_msg + t;
    // One aborted in the middle of its source is still there (prune_queues_locked skips only
    // the head's), but it left the queue count when it was aborted.
    if (table_.record(id).status != TaskStatus::queued) return;
    results_.fail_items_locked(table_.record(id), id, ErrorKind::aborted, why);
    queues_.left_queue();
  };
  for (auto* queue : {&queues_.lb(), &queues_.lb_subset()}) {
    for (auto& src : *queue)
      for (std::uint32_t t = src->next; t < src->ntasks; ++t) not_run(*src, t);
    queue->clear();
  }
  for (auto& s : links_.slots()) {
    for (auto& [src, t] : s.direct) not_run(*src, t);
    s.direct.clear();
  }
  // Tasks the scheduler holds (flags, dependencies, retries) do not start either.
  sched_.abort_all(why);
}

}  // namespace mpiply::detail
