// Rank 0's scheduler: submission and dispatch to the least-loaded engine (results:
// client_results.cpp).
#include "client/client_core.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/scheduling.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/backoff.hpp"
#include "support/clock.hpp"
#include "executor/executor.hpp"
#include "support/mpi_check.hpp"
#include "wire/result_codec.hpp"
#include "runtime/inventory.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

namespace {

// In single-rank mode the segments of a push are read straight from the caller's memory.
class MemorySegments : public SegmentFetcher {
 public:
  explicit MemorySegments(const std::vector<Segment>& segs) : segs_(segs) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size != n)
      throw ValueDecodeError("push: segment sizes do not match the message");
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
      mpi_engines_(static_cast<int>(engines_.size())), hub_keep_(settings().hub_keep),
      cull_at_(settings().hub_keep),
      sched_(static_cast<SchedulerSink&>(*this), settings().scheme) {
  // With one rank the inline engine already runs every task on rank 0.
  if (client_runs_tasks && !inline_) {
    local_id_ = mpi_engines_;
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid()), local_inventory()});
    local_engine_ = std::make_unique<LocalEngine>(local_id_, engines_.back().hostname);
  }
  if (inline_) {
    engines_.push_back({0, this_hostname(), static_cast<long>(getpid()), local_inventory()});
    local_ = std::make_unique<Engine>(0, 0, engines_[0].hostname);
  }
  slots_.resize(engines_.size());
  for (auto& s : slots_) s.ring.resize(static_cast<std::size_t>(hwm_));
  sched_.reset_engines(slots_.size(), static_cast<unsigned>(hwm_));
  for (std::size_t e = 0; e < engines_.size(); ++e)
    sched_.set_resources(static_cast<int>(e), engines_[e].resources);
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
  if (!src->targets.empty() && request_of(src->flags).has_claims())
    throw UsageError("mpiply: a task with cores, gpus, memory or named resources in its flags was "
                     "sent to engines named by a DirectView; resource requests are placed by the "
                     "scheduler: use a load_balanced_view (docs/resources.md)");
  if (!src->team && src->flags.engines.value_or(1) > 1)
    throw UsageError(fmt::format(
        "mpiply: the engines flag is {} on a call that is not a team task; a team's result is "
        "its members' values, so only LoadBalancedView::apply_team(k, f, ...) and "
        "map_team(k, f, xs...) run them (map and a DirectView run one-engine tasks). Clear the "
        "flag ({{.engines = 1}}) or call apply_team / map_team",
        *src->flags.engines));
  if (src->targets.empty() && has_scheduling_flags(src->flags))
    check_dependencies_in_hub_locked(*this, src->flags, function_name(src->fn_id).c_str());
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
  if (src->targets.empty() && has_scheduling_flags(src->flags)) {
    // The scheduler keeps it from here on.
    sched_.admit({.first = src->first_msg,
                  .ntasks = src->ntasks,
                  .engines = src->candidates,
                  .flags = src->flags,
                  .resources = request_of(src->flags),
                  .source = src},
                 steady_ns());
  } else if (!sched_.plain_fast() && refuse_retired_locked(src)) {
    // Some of its engines were shut down: its tasks failed.
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
  // overlaps the task's flight instead of adding a clock read to every apply round trip;
  // inline, the tasks run inside dispatch, so it is read before.
  if (inline_) st.submitted_steady_ns = steady_ns();
  dispatch_locked();
  if (!inline_) st.submitted_steady_ns = steady_ns();
  maybe_cull_locked();  // inline, the tasks ran in dispatch
  if (bg_idle_ && !idle_locked()) cv_.notify_one();
  return st.first_msg;
}

int ClientCore::least_loaded_locked() { return sched_.next_plain(); }

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
                                 : sched_.pick_plain(src->candidates);
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
  if (sched_.busy()) sched_.dispatch(steady_ns());
  bool fast = sched_.plain_fast();
  while (!lb_.empty()) {
    if (inline_ && drain_requested()) return drain_locked();  // drain hook: inline, between tasks
    int e = fast ? least_loaded_locked() : sched_.pick_plain({});
    if (e < 0) break;
    std::shared_ptr<TaskSource> src = lb_.front();
    std::uint32_t t = src->next++;
    if (src->next == src->ntasks) lb_.pop_front();
    send_task_locked(e, src, t);
  }
}

void ClientCore::send_task_locked(int e, const std::shared_ptr<TaskSource>& src, std::uint32_t t,
                                  Grant grant, std::span<const int> team) {
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
  {
    // What the scheduler gave it (zero for a task without claims), for task_resources() on the
    // engine. Written on every send: a one-task source's buffer is sent again on a retry.
    auto* m = const_cast<char*>(msg.data());
    std::memcpy(m + offsetof(TaskHeader, cores), &grant.cores, sizeof grant.cores);
    std::memcpy(m + offsetof(TaskHeader, gpu_mask), &grant.gpu_mask, sizeof grant.gpu_mask);
  }
  if (!team.empty()) msg = with_team(msg, team, t % team.size(), f.team_msg);
  ++s.count;
  sched_.set_load(e, s.count);
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

void ClientCore::place(const std::shared_ptr<TaskSource>& src, MsgId id, std::uint32_t task,
                       const Placement& where) {
  (void)id;  // send_task_locked finds it from the source
  if (!src->team) return send_task_locked(where.engines.front(), src, task, where.grant);
  // Member i of the team is task + i (scheduler_teams.cpp), sent to where.engines[i].
  std::span<const int> team(where.engines.data(), where.engines.size());
  for (std::uint32_t i = 0; i < team.size(); ++i)
    send_task_locked(team[i], src, task + i, where.grant, team);
}

void ClientCore::fail(MsgId id, ErrorKind kind, const std::string& why) {
  --queued_;
  fail_items_locked(record(id), id, kind, why);
}

TaskOutcome ClientCore::outcome(MsgId id) const {
  const TaskRecord& r = record(id);
  return {r.status, r.engine};
}

void ClientCore::retire_engines_locked(const std::vector<int>& engines) {
  sched_.shut_down(engines, steady_ns());
  // Plain tasks left without an engine fail now rather than wait for ever.
  auto abort_plain = [this](std::deque<std::shared_ptr<TaskSource>>& q, bool subset) {
    for (auto it = q.begin(); it != q.end();) {
      TaskSource& src = **it;
      if (sched_.any_in_service(subset ? src.candidates : std::vector<int>{})) {
        ++it;
        continue;
      }
      for (std::uint32_t t = src.next; t < src.ntasks; ++t) {
        MsgId id = src.first_msg + t;
        if (record(id).status != TaskStatus::queued) continue;  // aborted already
        fail(id, ErrorKind::aborted,
             "every engine it may run on was shut down (Client::shutdown) before it was sent");
      }
      it = q.erase(it);
    }
  };
  abort_plain(lb_, false);
  abort_plain(lb_subset_, true);
}

bool ClientCore::refuse_retired_locked(const std::shared_ptr<TaskSource>& src) {
  const char* why = "an engine it was to run on was shut down (Client::shutdown) before it was "
                    "submitted";
  auto fail_all = [&] {
    for (std::uint32_t t = 0; t < src->ntasks; ++t) fail(src->first_msg + t, ErrorKind::aborted, why);
  };
  if (src->targets.empty()) {
    if (sched_.any_in_service(src->candidates)) return false;
    fail_all();
    return true;
  }
  const EngineIndex& ix = sched_.engines();
  if (std::all_of(src->targets.begin(), src->targets.end(), [&](int e) { return ix.in_service(e); }))
    return false;
  // All or nothing: the tasks of one DirectView call may be a collective that every target
  // must join.
  fail_all();
  return true;
}

bool ClientCore::progress_locked() {
  bool moved = false;
  if (inflight_ > 0) moved = poll_results_locked();
  if (queued_ > 0) {
    std::size_t before = queued_;
    dispatch_locked();
    moved = moved || queued_ != before;
  }
  maybe_cull_locked();  // here, not as a task finishes: the code finishing it still reads its record
  return moved;
}

}  // namespace mpiply::detail
