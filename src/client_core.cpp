// Rank 0's scheduler: submission, dispatch to the least-loaded engine, and result handling.
#include "client_core.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "backoff.hpp"
#include "clock.hpp"
#include "executor.hpp"
#include "mpi_check.hpp"
#include "result_codec.hpp"
#include "settings.hpp"

namespace mpiply::detail {

namespace {

// In single-rank mode the segments of a push are read straight from the caller's memory.
class MemorySegments : public SegmentFetcher {
 public:
  explicit MemorySegments(const std::vector<Segment>& segs) : segs_(segs) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size != n)
      throw DecodeError("push: segment sizes do not match the message");
    std::memcpy(dst, segs_[i_].data, n);
    ++i_;
  }

 private:
  const std::vector<Segment>& segs_;
  std::size_t i_ = 0;
};

}  // namespace

ClientCore::ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm,
                       bool client_runs_tasks)
    : comm_(comm), engines_(std::move(engines)), inline_(engines_.empty()), hwm_(hwm),
      mpi_engines_(static_cast<int>(engines_.size())) {
  // With one rank the inline engine already runs every task on rank 0.
  if (client_runs_tasks && !inline_) {
    local_id_ = mpi_engines_;
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid())});
    local_engine_ = std::make_unique<LocalEngine>(local_id_, engines_.back().hostname);
  }
  if (inline_) {
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid())});
    local_ = std::make_unique<Engine>(0, 0, engines_[0].hostname);
  }
  slots_.resize(engines_.size());
  for (auto& s : slots_) s.ring.resize(static_cast<std::size_t>(hwm_));
  index_.reset(slots_.size(), static_cast<unsigned>(hwm_), settings().scheme);
  if (!inline_) {
    inbox_ = std::make_unique<ResultInbox>(comm_, mpi_engines_);
    abort_out_ = std::make_unique<AbortOutbox>(comm_);
  }
}

ClientCore::~ClientCore() {
  if (progress_.joinable()) {
    {
      std::lock_guard lk(mu);
      stop_thread_ = true;
    }
    cv_.notify_all();
    progress_.join();
  }
}

std::vector<int> ClientCore::ids() const {
  std::vector<int> v(engines_.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i);
  return v;
}

void ClientCore::start_progress_thread() {
  if (!inline_) progress_ = std::thread([this] { progress_main(); });
}

MsgId ClientCore::submit(std::shared_ptr<TaskSource> src) {
  std::unique_lock lk(mu);
  if (shut_down_)
    throw UsageError("mpiply: a task was submitted after mpiply::run returned; submit from "
                     "inside client_main");
  if (drain_requested()) throw_interrupted("no new task is accepted");  // drain hook
  std::int64_t now = now_ns();
  src->first_msg = next_msg_locked();
  // The submission holds the state for its tasks (the hub keeps call sources for resubmit: the
  // source must not keep the values alive too).
  std::shared_ptr<ResultStateBase> state = std::move(src->state);
  auto& st = *state;
  st.first_msg = src->first_msg;
  st.ntasks = src->ntasks;
  for (std::uint32_t t = 0; t < src->ntasks; ++t) {
    TaskRecord& r = records_.emplace_back();
    r.first_item = src->item_begin(t);
    r.nitems = src->item_count(t);
  }
  store_.add(src, state, src->first_msg, now);
  queued_ += src->ntasks;
  if (Scheduler::takes(*src)) {
    sched_.admit_locked(std::move(src));
  } else if (!sched_.plain_fast() && sched_.refuse_locked(src)) {
    // Some of its engines were shut down: the scheduler failed or queued each task.
  } else if (src->targets.empty()) {
    (src->candidates.empty() ? lb_ : lb_subset_).push_back(src);
  } else {
    for (std::uint32_t t = 0; t < src->ntasks; ++t) {
      int e = src->targets[t];
      slots_[static_cast<std::size_t>(e)].direct.emplace_back(src, t);
      list_direct_locked(e);
    }
  }
  // elapsed() counts from a steady stamp. With engines it is read after the send, where it
  // overlaps the task's flight instead of adding a clock read (~30 ns) to every apply round trip;
  // inline, the tasks run inside dispatch, so it is read before.
  if (inline_) st.submitted_steady_ns = steady_ns();
  dispatch_locked();
  if (!inline_) st.submitted_steady_ns = steady_ns();
  if (bg_idle_ && !idle_locked()) cv_.notify_one();
  return st.first_msg;
}

int ClientCore::least_loaded_locked() { return index_.least_round_robin(); }

void ClientCore::list_direct_locked(int e) {
  EngineSlot& s = slots_[static_cast<std::size_t>(e)];
  if (s.direct_listed) return;
  s.direct_listed = true;
  direct_ready_.push_back(e);
}

// Only engines listed since the last pass are looked at: those given direct tasks, and those
// with direct tasks that just returned a result (room again).
void ClientCore::dispatch_direct_locked() {
  std::vector<int> engines;
  engines.swap(direct_ready_);
  for (int e : engines) {
    EngineSlot& s = slots_[static_cast<std::size_t>(e)];
    while (!s.direct.empty() && s.count < static_cast<unsigned>(hwm_)) {
      auto [src, t] = std::move(s.direct.front());
      s.direct.pop_front();
      send_task_locked(e, src, t);
    }
    s.direct_listed = false;  // full or empty: a result lists it again if it has tasks left
  }
  if (direct_ready_.empty()) {
    engines.clear();
    direct_ready_.swap(engines);  // keep the capacity
  }
}

int ClientCore::least_loaded_of_locked(const std::vector<int>& candidates) const {
  int best = -1;
  unsigned best_count = static_cast<unsigned>(hwm_);
  for (int e : candidates) {
    unsigned c = slots_[static_cast<std::size_t>(e)].count;
    if (c < best_count) {
      best = e;
      best_count = c;
    }
  }
  return best;
}

// A source whose engines are all full is passed over, not waited on: a later source with other
// candidates still gets its turn (no head-of-line blocking).
void ClientCore::dispatch_subsets_locked() {
  for (auto it = lb_subset_.begin(); it != lb_subset_.end();) {
    std::shared_ptr<TaskSource> src = *it;
    int e;
    auto pick = [&] {
      return sched_.plain_fast() ? least_loaded_of_locked(src->candidates)
                                 : sched_.pick_plain_locked(src->candidates);
    };
    while (src->next < src->ntasks && (e = pick()) >= 0)
      send_task_locked(e, src, src->next++);
    it = src->next == src->ntasks ? lb_subset_.erase(it) : std::next(it);
  }
}

void ClientCore::dispatch_locked() {
  if (queued_ == 0) return;
  if (drain_requested()) return drain_locked();  // drain hook: no queued task starts
  if (!lb_subset_.empty()) dispatch_subsets_locked();
  if (!direct_ready_.empty()) dispatch_direct_locked();
  if (sched_.busy()) sched_.dispatch_locked();
  bool fast = sched_.plain_fast();
  while (!lb_.empty()) {
    if (inline_ && drain_requested()) return drain_locked();  // drain hook: inline, between tasks
    int e = fast ? least_loaded_locked() : sched_.pick_plain_locked({});
    if (e < 0) break;
    std::shared_ptr<TaskSource> src = lb_.front();
    std::uint32_t t = src->next++;
    if (src->next == src->ntasks) lb_.pop_front();
    send_task_locked(e, src, t);
  }
}

void ClientCore::send_task_locked(int e, const std::shared_ptr<TaskSource>& src, std::uint32_t t) {
  EngineSlot& s = slots_[e];
  InFlight& f = s.ring[(s.head + s.count) % s.ring.size()];
  MsgId id = src->first_msg + t;
  TaskRecord& rec = record(id);
  if (rec.status == TaskStatus::aborted) return;  // aborted while queued (client_abort.cpp)
  --queued_;
  std::vector<Segment> segs;
  std::span<const char> msg;
  try {
    msg = src->encode(t, f.scratch, segs);
  } catch (const std::exception& ex) {
    rec.engine = e;
    fail_items_locked(rec, id, ErrorKind::encode,
                      fmt::format("could not encode the task's arguments: {}", ex.what()));
    return;
  }
  if (msg.size() > max_message_bytes()) {
    rec.engine = e;
    fail_items_locked(rec, id, ErrorKind::message_too_large,
                      fmt::format("the task's message is {} bytes, over the {}-byte limit of one "
                                  "MPI message; push large arrays to the engines once "
                                  "(DirectView::push) and pass a Reference instead",
                                  msg.size(), max_message_bytes()));
    return;
  }
  ResumeKey key;
  if (db_ && db_reuse_locked(src, rec, id, msg, key)) return;  // an earlier run finished it
  ++s.count;
  index_.set_load(e, s.count);
  ++inflight_;
  f.msg = id;
  f.key = key;
  f.src = src;
  rec.engine = e;
  rec.status = TaskStatus::sent;
  if (inline_) {
    MemorySegments ms(segs);
    inline_out_.clear();
    {
      CurrentEngine guard(*local_);
      inline_iso_.run(*local_, msg.data(), msg.size(), ms, inline_out_, 0);
    }
    // No MPI here, but the job must fail as it would on a cluster.
    if (inline_out_.size() > max_message_bytes()) replace_with_too_large(inline_out_);
    handle_result_locked(e, inline_out_.data(), inline_out_.size(), now_ns());
    return;
  }
  if (e == local_id_) {
    local_engine_->submit(msg, segs);
    return;
  }
  int dest = e + 1;
  isend_message(comm_, dest, kTagTask, kTagBigTask, msg, kTaskInboxBytes, f.env, f.req, f.big_req);
  f.seg_reqs.clear();
  for (const Segment& sg : segs) {
    for (std::size_t off = 0; off < sg.size; off += kSegmentPiece) {
      std::size_t len = std::min<std::size_t>(kSegmentPiece, sg.size - off);
      MPI_Request r;
      mpi_check(MPI_Isend(sg.data + off, static_cast<int>(len), MPI_BYTE, dest, kTagSegment,
                          comm_, &r),
                "MPI_Isend");
      f.seg_reqs.push_back(r);
    }
  }
}

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
    if (!sched_.retry_locked(rec, e, id, p + sizeof h, items)) {
      store_items_locked(rec, e, id, Reader(p + sizeof h, items));
      if (db_) db_append_locked(rec, id, f.key, {p + sizeof h, items}, {});
    }
  }
  f.src.reset();
  s.head = (s.head + 1) % static_cast<unsigned>(s.ring.size());
  --s.count;
  index_.set_load(e, s.count);
  if (!s.direct.empty()) list_direct_locked(e);
  --inflight_;
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
  sched_.on_task_done_locked(id);
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
  sched_.on_task_done_locked(id);
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

bool ClientCore::progress_locked() {
  bool moved = false;
  if (inflight_ > 0) moved = poll_results_locked();
  if (queued_ > 0) {
    std::size_t before = queued_;
    dispatch_locked();
    moved = moved || queued_ != before;
  }
  return moved;
}

}  // namespace mpiply::detail
