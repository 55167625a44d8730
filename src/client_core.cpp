// Rank 0's scheduler: queues, dispatch to the least-loaded engine, result handling, progress.
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

ClientCore::ClientCore(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm)
    : comm_(comm), engines_(std::move(engines)), inline_(engines_.empty()), hwm_(hwm) {
  if (inline_) {
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid())});
    local_ = std::make_unique<Engine>(0, 0, engines_[0].hostname);
  }
  slots_.resize(engines_.size());
  for (auto& s : slots_) s.ring.resize(static_cast<std::size_t>(hwm_));
  if (!inline_) inbox_ = std::make_unique<ResultInbox>(comm_, static_cast<int>(engines_.size()));
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
  std::int64_t now = now_ns();
  src->first_msg = next_msg_locked();
  auto& st = *src->state;
  st.first_msg = src->first_msg;
  st.ntasks = src->ntasks;
  for (std::uint32_t t = 0; t < src->ntasks; ++t) {
    TaskRecord& r = records_.emplace_back();
    r.state = src->state;
    r.fn_id = src->fn_id;
    r.first_item = src->item_begin(t);
    r.nitems = src->item_count(t);
    r.submitted = now;
  }
  queued_ += src->ntasks;
  if (src->targets.empty()) {
    lb_.push_back(src);
  } else {
    for (std::uint32_t t = 0; t < src->ntasks; ++t) slots_[src->targets[t]].direct.emplace_back(src, t);
  }
  dispatch_locked();
  if (bg_idle_ && !idle_locked()) cv_.notify_one();
  return src->first_msg;
}

int ClientCore::least_loaded_locked() {
  int best = -1;
  unsigned best_count = static_cast<unsigned>(hwm_);
  std::size_t n = slots_.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t e = (rr_ + k) % n;
    unsigned c = slots_[e].count;
    if (c < best_count) {
      best = static_cast<int>(e);
      best_count = c;
      if (c == 0) break;
    }
  }
  if (best >= 0) rr_ = static_cast<unsigned>(best + 1) % static_cast<unsigned>(n);
  return best;
}

void ClientCore::dispatch_locked() {
  if (queued_ == 0) return;
  for (std::size_t e = 0; e < slots_.size(); ++e) {
    auto& s = slots_[e];
    while (!s.direct.empty() && s.count < static_cast<unsigned>(hwm_)) {
      auto [src, t] = std::move(s.direct.front());
      s.direct.pop_front();
      send_task_locked(static_cast<int>(e), src, t);
    }
  }
  while (!lb_.empty()) {
    int e = least_loaded_locked();
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
  --queued_;
  std::vector<Segment> segs;
  std::span<const char> msg;
  try {
    msg = src->encode(t, f.scratch, segs);
  } catch (const std::exception& ex) {
    rec.engine = e;
    fail_items_locked(rec, id, "mpiply::EncodeError",
                      fmt::format("could not encode the task's arguments: {}", ex.what()));
    return;
  }
  ++s.count;
  ++inflight_;
  f.msg = id;
  f.src = src;
  rec.engine = e;
  rec.status = TaskStatus::sent;
  if (inline_) {
    MemorySegments ms(segs);
    inline_out_.clear();
    {
      CurrentEngine guard(*local_);
      execute_task(*local_, msg.data(), msg.size(), ms, inline_out_, 0);
    }
    handle_result_locked(e, inline_out_.data(), inline_out_.size(), now_ns());
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
  return n > 0;
}

void ClientCore::handle_result_locked(int e, const char* p, std::size_t n, std::int64_t received) {
  Reader r(p, n);
  auto h = r.pod<ResultHeader>();
  EngineSlot& s = slots_.at(static_cast<std::size_t>(e));
  if (s.count == 0 || s.ring[s.head].msg != h.msg_id)
    throw Error(fmt::format("mpiply: engine {} answered msg {} out of order; the wire protocol is "
                            "broken (mixed mpiply versions?)",
                            e, h.msg_id));
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
  TaskRecord& rec = record(h.msg_id);
  rec.started = h.started_ns;
  rec.completed = h.completed_ns;
  rec.received = received;
  std::shared_ptr<ResultStateBase> st = std::move(rec.state);
  bool failed = false;
  for (std::uint32_t i = 0; i < h.nitems; ++i) {
    auto status = static_cast<ItemStatus>(r.u8());
    Reader item = r.sub(r.u32());
    std::size_t idx = rec.first_item + i;
    if (!st) continue;  // nobody holds this result any more
    const std::string& host = engines_[e].hostname;
    if (status == ItemStatus::ok) {
      try {
        st->store_value(idx, item);
        st->item_ok(idx);
        continue;
      } catch (const std::exception& ex) {
        st->item_failed(idx, RemoteError(e, host, st->fname, h.msg_id, "mpiply::DecodeError",
                                         fmt::format("the result did not decode: {}", ex.what())));
      }
    } else {
      std::string ename(item.str());
      std::string evalue(item.str());
      st->item_failed(idx, RemoteError(e, host, st->fname, h.msg_id, std::move(ename),
                                       std::move(evalue)));
    }
    failed = true;
  }
  rec.status = failed ? TaskStatus::error : TaskStatus::ok;
  f.src.reset();
  s.head = (s.head + 1) % static_cast<unsigned>(s.ring.size());
  --s.count;
  --inflight_;
}

void ClientCore::fail_items_locked(TaskRecord& rec, MsgId id, const std::string& ename,
                                   const std::string& evalue) {
  rec.status = ename == "mpiply::Aborted" ? TaskStatus::aborted : TaskStatus::error;
  std::shared_ptr<ResultStateBase> st = std::move(rec.state);
  if (!st) return;
  int e = rec.engine;
  std::string host = e >= 0 ? engines_[e].hostname : std::string();
  for (std::uint32_t i = 0; i < rec.nitems; ++i)
    st->item_failed(rec.first_item + i, RemoteError(e, host, st->fname, id, ename, evalue));
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

bool ClientCore::wait(WaitPred pred, const void* ctx, const std::optional<TimePoint>& deadline) {
  std::unique_lock lk(mu);
  if (pred(ctx)) return true;
  ++driving_;
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{driving_};
  Backoff b(kClientBackoff);
  for (;;) {
    bool moved = progress_locked();
    if (pred(ctx)) return true;
    if (deadline && Clock::now() >= *deadline) return false;
    if (!moved && idle_locked())
      throw Error("mpiply: waiting for a result that no task will deliver (the client has shut "
                  "down, or the result was aborted)");
    if (moved) {
      b.reset();
    } else if (!b.spinning()) {
      lk.unlock();
      b.sleep();
      lk.lock();
    }
  }
}

void ClientCore::progress_main() {
  std::unique_lock lk(mu);
  Backoff b(kProgressBackoff);
  while (!stop_thread_) {
    if (idle_locked()) {
      bg_idle_ = true;
      cv_.wait(lk);
      bg_idle_ = false;
      b.reset();
      continue;
    }
    if (driving_ == 0) {
      bool moved = false;
      try {
        moved = progress_locked();
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "mpiply: fatal error in the progress thread: %s\n", ex.what());
        MPI_Abort(MPI_COMM_WORLD, 3);
      }
      if (moved) {
        b.reset();
        continue;
      }
    }
    bool user_driving = driving_ > 0;
    lk.unlock();
    if (!user_driving) {
      b.sleep();
    } else {
      // The user's thread is polling; stay out of its way until it leaves.
      timespec ts{0, static_cast<long>(kProgressBackoff.max_sleep_ns)};
      nanosleep(&ts, nullptr);
    }
    lk.lock();
  }
}

void ClientCore::shutdown(int code) {
  {
    std::unique_lock lk(mu);
    shut_down_ = true;
    auto abort_task = [&](TaskSource& src, std::uint32_t t) {
      MsgId id = src.first_msg + t;
      fail_items_locked(record(id), id, "mpiply::Aborted",
                        "client_main returned before this task was sent to an engine");
      --queued_;
    };
    for (auto& src : lb_)
      for (std::uint32_t t = src->next; t < src->ntasks; ++t) abort_task(*src, t);
    lb_.clear();
    for (auto& s : slots_) {
      for (auto& [src, t] : s.direct) abort_task(*src, t);
      s.direct.clear();
    }
    // Tasks already on engines must finish: an engine only reads its stop message after them.
    Backoff b(kDrainBackoff);
    std::int64_t notice_at = now_ns() + 10'000'000'000;
    while (inflight_ > 0) {
      if (progress_locked()) continue;
      if (now_ns() > notice_at) {
        std::fprintf(stderr, "mpiply: waiting for %zu task(s) still running on engines\n",
                     inflight_);
        notice_at = now_ns() + 60'000'000'000;
      }
      lk.unlock();
      b.sleep();
      lk.lock();
    }
    stop_thread_ = true;
  }
  cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  if (inline_) return;
  inbox_.reset();
  TaskHeader h{};
  h.kind = Kind::stop;
  h.fn_id = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
  for (std::size_t e = 0; e < engines_.size(); ++e)
    mpi_check(MPI_Send(&h, sizeof h, MPI_BYTE, static_cast<int>(e) + 1, kTagTask, comm_),
              "MPI_Send");
}

TaskMetadata ClientCore::metadata_locked(MsgId id) const {
  if (id < base_ || id >= next_msg_locked())
    throw UsageError(fmt::format("mpiply: no task with msg id {} (ids run from {} to {})", id,
                                 base_, next_msg_locked()));
  const TaskRecord& r = record(id);
  TaskMetadata m;
  m.msg_id = id;
  m.engine_id = r.engine;
  m.status = r.status;
  m.function = function_name(r.fn_id);
  m.items = r.nitems;
  auto tp = [](std::int64_t ns) -> std::optional<TimePoint> {
    if (ns == 0) return std::nullopt;
    return to_time_point(ns);
  };
  m.submitted = tp(r.submitted);
  m.started = tp(r.started);
  m.completed = tp(r.completed);
  m.received = tp(r.received);
  if (r.engine >= 0) {
    const EngineInfo& info = engines_[r.engine];
    m.rank = info.rank;
    m.hostname = info.hostname;
    m.pid = info.pid;
  }
  return m;
}

bool ClientCore::sent_locked(MsgId first, std::uint32_t n) {
  for (MsgId id = first; id < first + n; ++id) {
    const TaskRecord& r = record(id);
    if (r.status == TaskStatus::queued) return false;
    if (r.status != TaskStatus::sent || inline_) continue;
    EngineSlot& s = slots_[r.engine];
    for (unsigned k = 0; k < s.count; ++k) {
      InFlight& f = s.ring[(s.head + k) % s.ring.size()];
      if (f.msg != id) continue;
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

// The narrow interface of core.hpp.
std::mutex& core_mutex(ClientCore& core) { return core.mu; }
MsgId core_submit(ClientCore& core, std::shared_ptr<TaskSource> src) {
  return core.submit(std::move(src));
}
bool core_wait(ClientCore& core, WaitPred pred, const void* ctx,
               const std::optional<TimePoint>& deadline) {
  return core.wait(pred, ctx, deadline);
}
std::vector<int> core_ids(const ClientCore& core) { return core.ids(); }

}  // namespace mpiply::detail
