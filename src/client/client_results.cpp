// Rank 0's result handling: results polled from the inbox, checked against the task they
// answer, kept by the hub, delivered to the AsyncResult's state (and followers), or every item
// failed with a reason.
#include "client/client_core.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/clock.hpp"
#include "support/mpi_check.hpp"
#include "wire/result_codec.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

bool ClientCore::poll_results_locked() {
  if (inflight_ == 0) return false;
  int n = inbox_->poll([this](int e, const char* p, std::size_t len) {
    handle_result_locked(e, p, len, now_ns());
  });
  if (live_.streaming())  // stream hook: running tasks' output and data (live_outputs.hpp)
    n += live_.poll(comm_, [this](MsgId id, int& e) {
      if (id < base_ || id >= next_msg_locked() || record(id).status != TaskStatus::sent)
        return false;
      e = record(id).engine;
      return true;
    });
  if (local_engine_)
    n += local_engine_->poll([this](const char* p, std::size_t len) {
      handle_result_locked(local_id_, p, len, now_ns());
    });
  return n > 0;
}

// A result belongs to the head of its engine's ring (engines answer in order), so nothing read
// from the message picks the task: a malformed result fails that task's items, and the job goes
// on. The whole message is checked before any item is stored.
void ClientCore::handle_result_locked(int e, const char* p, std::size_t n, std::int64_t received) {
  EngineSlot& s = slots_.at(static_cast<std::size_t>(e));
  if (s.count == 0) {
    std::fprintf(stderr, "mpiply: engine %d sent a result (%zu bytes) while none of its tasks was "
                 "outstanding; ignored\n", e, n);
    return;
  }
  InFlight& f = s.ring[s.head];
  if (!inline_) {
    // The engine has the whole message, so these complete at once; they free MPI's request.
    mpi_check(MPI_Wait(&f.req, MPI_STATUS_IGNORE), "MPI_Wait");
    if (f.big_req != MPI_REQUEST_NULL)
      mpi_check(MPI_Wait(&f.big_req, MPI_STATUS_IGNORE), "MPI_Wait");
    if (!f.seg_reqs.empty())
      mpi_check(MPI_Waitall(static_cast<int>(f.seg_reqs.size()), f.seg_reqs.data(),
                            MPI_STATUSES_IGNORE),
                "MPI_Waitall");
  }
  MsgId id = f.msg;
  TaskRecord& rec = record(id);
  records_.set_received(rec, received);
  ResultHeader h{};
  ResultOutput output;
  std::string problem = check_result(p, n, id, rec.nitems, h, &output);
  if (!problem.empty()) {
    fail_items_locked(rec, id, ErrorKind::decode,
                      fmt::format("engine {} sent a malformed result for msg {}: {}. Every item "
                                  "of the task failed; the job goes on (a corrupt message, or "
                                  "ranks running different builds of the program)",
                                  e, id, problem));
  } else if (h.payload_bytes != 0 && !take_payload_locked(e, rec, id, h.payload_bytes)) {
    // The payload had nowhere to go: it was dropped and the task failed (client_payload.cpp).
  } else {
    records_.set_times(rec, {h.started_ns, h.completed_ns, received});
    rec.thread = static_cast<std::uint16_t>(std::min<std::uint32_t>(h.thread, 0xffff));
    // A task that raised with retries left runs again; its failure is never stored.
    if (output.present && settings().capture_output) {  // a retried task keeps its last output
      usage_.set(id - base_, h.cpu_user_ns, h.cpu_system_ns, h.max_rss_bytes);
      if (!output.out.empty() || !output.err.empty())
        outputs_[id] = {std::string(output.out), std::string(output.err)};
      else if (!outputs_.empty())
        outputs_.erase(id);
    }
    if (output.has_data || live_.streaming()) live_.on_result(id, e, output);  // stream hook
    std::size_t items = output.items_end - sizeof h;  // the output is not kept with the items
    if (!(sched_.retrying() && retried_locked(rec, e, id, p + sizeof h, items))) {
      store_items_locked(rec, e, id, Reader(p + sizeof h, items));
      if (db_) db_append_locked(rec, id, f.key, {p + sizeof h, items}, {});
    }
  }
  f.src.reset();
  s.head = (s.head + 1) % static_cast<unsigned>(s.ring.size());
  --s.count;
  sched_.set_load(e, s.count);
  if (!s.direct.empty()) list_direct_locked(e);
  --inflight_;
}

// A task that raised (an item failed, not aborted) and that the scheduler runs again: it is
// queued once more and its result is dropped. items: the result's items, already checked.
bool ClientCore::retried_locked(TaskRecord& rec, int e, MsgId id, const char* items,
                                std::size_t n) {
  if (shut_down_) return false;
  Reader r(items, n);
  for (std::uint32_t i = 0; i < rec.nitems; ++i) {
    auto status = static_cast<ItemStatus>(r.u8());
    Reader item = r.sub(r.u32());
    if (status == ItemStatus::ok) continue;
    ErrorItem err = read_error_item(item);
    if (err.kind == ErrorKind::aborted) return false;  // aborted by the user: never again
    if (!sched_.retry(id, e, fmt::format("{}: {}", err.ename, err.evalue))) return false;
    rec.status = TaskStatus::queued;
    rec.engine = -1;
    ++queued_;
    return true;
  }
  return false;
}

// The items of a checked result: kept by the hub as they came (result_store.hpp), values decoded
// into the AsyncResult's state, errors kept with their kind.
void ClientCore::store_items_locked(TaskRecord& rec, int e, MsgId id, Reader r) {
  (void)e;  // the record names the engine
  std::shared_ptr<ResultStateBase> st = store_.take_state(rec, id);
  {
    Reader copy = r;
    std::size_t n = copy.remaining();
    const char* items = copy.take(n);
    // A large result came whole into a buffer of its own: the hub takes that buffer, no copy.
    if (n >= kAdoptMinBytes && inbox_ && inbox_->holds_big(items))
      store_.adopt(id - base_, inbox_->take_big(), items, n);
    else
      store_.keep(id - base_, items, n);
  }
  Delivered d = deliver_items_locked(st.get(), rec.first_item, rec, id, r);
  if (store_.has_followers())
    for (Follower& f : store_.take_followers(id))
      deliver_items_locked(f.state.get(), f.item_base, rec, id, r);
  rec.status = !d.failed ? TaskStatus::ok : d.all_aborted ? TaskStatus::aborted : TaskStatus::error;
  count_finished_locked();
  sched_.on_finished(id, {rec.status, rec.engine});
}

ClientCore::Delivered ClientCore::deliver_items_locked(ResultStateBase* st, std::size_t base,
                                                       const TaskRecord& rec, MsgId id, Reader r) {
  Delivered d;
  int e = rec.engine;
  for (std::uint32_t i = 0; i < rec.nitems; ++i) {
    auto status = static_cast<ItemStatus>(r.u8());
    Reader item = r.sub(r.u32());
    std::size_t idx = base + i;
    if (status == ItemStatus::ok) {
      d.all_aborted = false;
      if (!st) continue;  // nobody holds this result any more
      try {
        st->store_value(idx, item);
        st->item_ok(idx);
        continue;
      } catch (const std::exception& ex) {
        st->item_failed(idx, RemoteError(e, engine_host(e), st->fname, id,
                                         error_type_name(ErrorKind::decode),
                                         fmt::format("the result did not decode: {}", ex.what()),
                                         ErrorKind::decode));
      }
    } else {
      ErrorItem err = read_error_item(item);
      if (err.kind != ErrorKind::aborted) d.all_aborted = false;
      if (st)
        st->item_failed(idx, RemoteError(e, engine_host(e), st->fname, id, std::string(err.ename),
                                         std::string(err.evalue), err.kind));
    }
    d.failed = true;
  }
  return d;
}

// Rank 0 failed the task itself: the hub keeps a short marker (kRankZeroFailure, the kind and,
// unless aborted, the text) instead of an error item per map item.
void ClientCore::fail_items_locked(TaskRecord& rec, MsgId id, ErrorKind kind,
                                   const std::string& evalue) {
  rec.status = kind == ErrorKind::aborted ? TaskStatus::aborted : TaskStatus::error;
  count_finished_locked();
  sched_.on_finished(id, {rec.status, rec.engine});
  {
    std::string marker{kRankZeroFailure, static_cast<char>(kind)};
    if (kind != ErrorKind::aborted) marker += evalue;
    store_.keep(id - base_, marker.data(), marker.size());
  }
  std::shared_ptr<ResultStateBase> st = store_.take_state(rec, id);
  if (st) {
    int e = rec.engine;
    std::string host = engine_host(e);
    for (std::uint32_t i = 0; i < rec.nitems; ++i)
      st->item_failed(rec.first_item + i,
                      RemoteError(e, host, st->fname, id, error_type_name(kind), evalue, kind));
  }
  if (store_.has_followers())
    for (Follower& f : store_.take_followers(id)) replay_locked(f.state.get(), f.item_base, rec, id);
  if (db_)
    db_append_locked(rec, id, ResumeKey{}, {},
                     fmt::format("{}: {}", error_type_name(kind), evalue));
}

}  // namespace mpiply::detail
