// Rank 0's result handling (result_handler.hpp): results checked against the task they answer,
// kept by the hub, delivered to the AsyncResult's state (and followers), or every item failed
// with a reason; the hub's kept items replayed to a state built later.
#include "client/result_handler.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/db_recorder.hpp"
#include "client/engine_links.hpp"
#include "client/task_queues.hpp"
#include "support/clock.hpp"
#include "support/mpi_check.hpp"
#include "wire/result_codec.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

ResultHandler::ResultHandler(const EngineRoster& roster, TaskTable& table, EngineLinks& links,
                             TaskQueues& queues, Scheduler& sched, DbRecorder& db, HubCap& cap,
                             LiveOutputs& live)
    : roster_(roster), table_(table), links_(links), queues_(queues), sched_(sched), db_(db),
      cap_(cap), live_(live) {}

// A result belongs to the head of its engine's ring (engines answer in order), so nothing read
// from the message picks the task: a malformed result fails that task's items, and the job goes
// on. The whole message is checked before any item is stored.
void ResultHandler::handle_result_locked(int e, const char* p, std::size_t n,
                                         std::int64_t received) {
  EngineSlot& s = links_.slots().at(static_cast<std::size_t>(e));
  if (s.count == 0) {
    std::fprintf(stderr, "mpiply: engine %d sent a result (%zu bytes) while none of its tasks was "
                 "outstanding; ignored\n", e, n);
    return;
  }
  InFlight& f = s.ring[s.head];
  if (!roster_.inline_mode()) {
    // The engine has the whole message, so these complete at once; they free MPI's request.
    // (A task that went in another's bundle has none: a call into MPI saved per such result.)
    if (f.req != MPI_REQUEST_NULL) mpi_check(MPI_Wait(&f.req, MPI_STATUS_IGNORE), "MPI_Wait");
    if (f.big_req != MPI_REQUEST_NULL)
      mpi_check(MPI_Wait(&f.big_req, MPI_STATUS_IGNORE), "MPI_Wait");
    if (!f.seg_reqs.empty())
      mpi_check(MPI_Waitall(static_cast<int>(f.seg_reqs.size()), f.seg_reqs.data(),
                            MPI_STATUSES_IGNORE),
                "MPI_Waitall");
  }
  MsgId id = f.msg;
  TaskRecord& rec = table_.record(id);
  table_.records().set_received(rec, received);
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
    // The payload had nowhere to go: it was dropped and the task failed (result_payload.cpp).
  } else {
    table_.records().set_times(rec, {h.started_ns, h.completed_ns, received});
    // How long it ran, for whether results may be held (dispatcher.cpp); -1 (not known) when
    // the engine's stamps do not give a run time (completed before started, or out of range).
    std::int64_t ran = 0;
    if (__builtin_sub_overflow(h.completed_ns, h.started_ns, &ran) || ran < 0) ran = -1;
    if (f.src) f.src->last_run_ns = ran;
    sched_.ran(e, ran);
    rec.thread = static_cast<std::uint16_t>(std::min<std::uint32_t>(h.thread, 0xffff));
    // A task that raised with retries left runs again; its failure is never stored.
    if (output.present && settings().capture_output) {  // a retried task keeps its last output
      table_.capture().record(id - table_.base_locked(), h.cpu_user_ns, h.cpu_system_ns,
                              h.max_rss_bytes, output.out, output.err);
    }
    if (output.has_data || live_.streaming()) live_.on_result(id, e, output);  // stream hook
    std::size_t items = output.items_end - sizeof h;  // the output is not kept with the items
    if (!(sched_.tasks().retrying() && retried_locked(rec, e, id, p + sizeof h, items))) {
      store_items_locked(rec, e, id, Reader(p + sizeof h, items));
      if (db_.on()) db_.append_locked(rec, id, f.key, {p + sizeof h, items}, {});
    }
  }
  links_.release_source_locked(f.src);
  s.head = (s.head + 1) % static_cast<unsigned>(s.ring.size());
  --s.count;
  sched_.set_load(e, s.count);
  if (!s.direct.empty()) queues_.list_direct(s, e);
  queues_.answered();
}

std::size_t ResultHandler::tasks_in_flight_locked() const noexcept { return queues_.inflight(); }

// A task that raised (an item failed, not aborted) and that the scheduler runs again: it is
// queued once more and its result is dropped. items: the result's items, already checked.
bool ResultHandler::retried_locked(TaskRecord& rec, int e, MsgId id, const char* items,
                                std::size_t n) {
  if (queues_.closed()) return false;
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
    queues_.queued_more(1);
    return true;
  }
  return false;
}

// The items of a checked result: kept by the hub as they came (result_store.hpp), values decoded
// into the AsyncResult's state, errors kept with their kind.
void ResultHandler::store_items_locked(TaskRecord& rec, int e, MsgId id, Reader r) {
  (void)e;  // the record names the engine
  SubmissionTable::TakenState taken = table_.submissions().take_state(rec, id);
  {
    Reader copy = r;
    std::size_t n = copy.remaining();
    const char* items = copy.take(n);
    // A large result came whole into a buffer of its own: the hub takes that buffer, no copy.
    if (n >= kAdoptMinBytes && links_.inbox() && links_.inbox()->holds_big(items))
      table_.store().adopt(id - table_.base_locked(), links_.inbox()->take_big(), items, n);
    else
      table_.store().keep(id - table_.base_locked(), items, n);
  }
  Delivered d = deliver_items_locked(taken.state, rec.first_item, rec, id, r);
  if (table_.submissions().follows().has_followers())
    for (Follower& f : table_.submissions().follows().take_followers(id))
      deliver_items_locked(f.state.get(), f.item_base, rec, id, r);
  rec.status = !d.failed ? TaskStatus::ok : d.all_aborted ? TaskStatus::aborted : TaskStatus::error;
  cap_.count_finished_locked();
  sched_.on_finished(id, {rec.status, rec.engine});
}

ResultHandler::Delivered ResultHandler::deliver_items_locked(ResultStateBase* st, std::size_t base,
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
        st->item_failed(idx, RemoteError(e, roster_.engine_host(e), st->fname, id,
                                         error_type_name(ErrorKind::decode),
                                         fmt::format("the result did not decode: {}", ex.what()),
                                         ErrorKind::decode));
      }
    } else {
      ErrorItem err = read_error_item(item);
      if (err.kind != ErrorKind::aborted) d.all_aborted = false;
      if (st)
        st->item_failed(idx, RemoteError(e, roster_.engine_host(e), st->fname, id,
                                         std::string(err.ename), std::string(err.evalue),
                                         err.kind));
    }
    d.failed = true;
  }
  return d;
}

// Rank 0 failed the task itself: the hub keeps a short marker (kRankZeroFailure, the kind and,
// unless aborted, the text) instead of an error item per map item.
void ResultHandler::fail_queued_locked(MsgId id, ErrorKind kind, const std::string& evalue) {
  queues_.left_queue();
  fail_items_locked(table_.record(id), id, kind, evalue);
}

void ResultHandler::fail_items_locked(TaskRecord& rec, MsgId id, ErrorKind kind,
                                   const std::string& evalue) {
  rec.status = kind == ErrorKind::aborted ? TaskStatus::aborted : TaskStatus::error;
  cap_.count_finished_locked();
  sched_.on_finished(id, {rec.status, rec.engine});
  {
    std::string marker{kRankZeroFailure, static_cast<char>(kind)};
    if (kind != ErrorKind::aborted) marker += evalue;
    table_.store().keep(id - table_.base_locked(), marker.data(), marker.size());
  }
  SubmissionTable::TakenState taken = table_.submissions().take_state(rec, id);
  if (ResultStateBase* st = taken.state) {
    int e = rec.engine;
    std::string host = roster_.engine_host(e);
    for (std::uint32_t i = 0; i < rec.nitems; ++i)
      st->item_failed(rec.first_item + i,
                      RemoteError(e, host, st->fname, id, error_type_name(kind), evalue, kind));
  }
  if (table_.submissions().follows().has_followers())
    for (Follower& f : table_.submissions().follows().take_followers(id))
      replay_locked(f.state.get(), f.item_base, rec, id);
  if (db_.on())
    db_.append_locked(rec, id, ResumeKey{}, {},
                     fmt::format("{}: {}", error_type_name(kind), evalue));
}

void ResultHandler::replay_locked(ResultStateBase* st, std::size_t base, const TaskRecord& rec,
                               MsgId id) {
  ResultStore::Unpacked buf;
  std::string_view slot = table_.store().bytes(id - table_.base_locked(), buf);
  if (!slot.empty() && slot[0] == kRankZeroFailure) {
    auto kind = static_cast<ErrorKind>(slot.size() > 1 ? slot[1] : 0);
    std::string text = kind == ErrorKind::aborted ? kAbortedQueuedText
                                                  : std::string(slot.substr(2));
    if (!st) return;
    for (std::uint32_t i = 0; i < rec.nitems; ++i)
      st->item_failed(base + i, RemoteError(rec.engine, roster_.engine_host(rec.engine), st->fname, id,
                                            error_type_name(kind), text, kind));
    return;
  }
  deliver_items_locked(st, base, rec, id, Reader(slot.data(), slot.size()));
}

std::string ResultHandler::first_error_locked(MsgId id) const {
  const TaskRecord& rec = table_.record(id);
  if (rec.status != TaskStatus::error && rec.status != TaskStatus::aborted) return {};
  if (rec.hub & kValuesPurged) return {};
  ResultStore::Unpacked buf;
  std::string_view slot = table_.store().bytes(id - table_.base_locked(), buf);
  if (!slot.empty() && slot[0] == kRankZeroFailure) {
    auto kind = static_cast<ErrorKind>(slot.size() > 1 ? slot[1] : 0);
    return fmt::format("{}: {}", error_type_name(kind),
                       kind == ErrorKind::aborted ? std::string(kAbortedQueuedText)
                                                  : std::string(slot.substr(2)));
  }
  try {
    Reader r(slot.data(), slot.size());
    for (std::uint32_t i = 0; i < rec.nitems; ++i) {
      auto status = static_cast<ItemStatus>(r.u8());
      Reader item = r.sub(r.u32());
      if (status == ItemStatus::ok) continue;
      ErrorItem err = read_error_item(item);
      return fmt::format("{}: {}", err.ename, err.evalue);
    }
  } catch (const std::exception&) {
  }
  return "mpiply::MessageDecodeError: the result did not decode";
}

}  // namespace mpiply::detail
