// Isolated tasks: pick or fork the worker, keep the ring full, and turn a death or a time limit
// into the error items of the one task it hit, while the tasks behind it go to a fresh worker.
#include "isolation/isolation.hpp"

#include <sched.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/clock.hpp"

namespace mpiply::detail {

namespace {

// run() polls for the reply this long before it sleeps: short tasks answer within it.
constexpr std::int64_t kSpinNs = 50'000;
// While a task runs, run() wakes at these intervals (doubling from the first to the second) to
// run its wait hook; a finishing task or a dying worker wakes it at once.
constexpr std::int64_t kHookFirstNs = 1'000'000;
constexpr std::int64_t kHookMaxNs = 20'000'000;
// next() without progress looks for a dead worker every this many calls (a system call), besides
// after every wait().
constexpr unsigned kDeathCheckEvery = 256;
constexpr std::size_t kSpareMaxBytes = std::size_t(64) << 10;

}  // namespace

Isolation::Isolation(unsigned depth)
    : depth_(std::clamp(depth, 1u, ShmChannel::kMaxSlots)) {}

Isolation::~Isolation() = default;

bool Isolation::isolated_call(std::span<const char> msg) {
  if (msg.size() < sizeof(TaskHeader)) return false;
  TaskHeader h;
  std::memcpy(&h, msg.data(), sizeof h);
  if (h.kind != Kind::call || !(h.run & kRunIsolated)) return false;
  const FunctionEntry* fe = find_by_id(h.fn_id);
  return !(fe && fe->collective);
}

bool Isolation::usable() const {
  return worker_ && !worker_->dead() && worker_->engine() == eng_ &&
         worker_->generation() == eng_->store().generation();
}

ExecResult Isolation::run(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs,
                          Bytes& out, std::int64_t clock_offset_ns, const WaitHook& hook) {
  if (!isolated_call({msg, n})) return execute_task(eng, msg, n, segs, out, clock_offset_ns);
  hook();  // control messages that came before this task are not for it
  submit(eng, {msg, n}, clock_offset_ns);
  std::int64_t t0 = steady_ns();
  std::int64_t hook_ns = kHookFirstNs;
  for (;;) {
    if (next(out)) return {};
    if (steady_ns() - t0 < kSpinNs) {
      // The worker may need this core (one rank per core is the usual layout): let it run.
      sched_yield();
      continue;
    }
    wait(hook_ns);
    hook();
    hook_ns = std::min(hook_ns * 2, kHookMaxNs);
  }
}

void Isolation::submit(Engine& eng, std::span<const char> msg, std::int64_t clock_offset_ns) {
  eng_ = &eng;
  offset_ = clock_offset_ns;
  TaskHeader h;
  std::memcpy(&h, msg.data(), sizeof h);  // isolated_call checked the size
  Task t;
  if (!spare_.empty()) {
    t.msg.swap(spare_.back());
    spare_.pop_back();
    t.msg.clear();
  }
  t.msg.append(msg.data(), msg.size());
  t.submitted_ns = now_ns() - clock_offset_ns;
  t.time_limit_ms = h.time_limit_ms;
  pending_.push_back(std::move(t));
  post_more();
}

void Isolation::post_more() {
  if (pending_.empty()) return;
  // An idle worker that is out of date (or leaving after a task changed its namespace) goes.
  if (worker_ && posted_ == read_ && (stale_ || !usable())) drop_worker();
  if (stale_) return;  // posted tasks come back when the leaving worker is gone
  if (!worker_) {
    try {
      worker_ = std::make_unique<WorkerProcess>(*eng_, offset_, depth_);
    } catch (const std::exception& e) {
      start_error_ = e.what();
      return;
    }
    posted_ = read_ = 0;
    look_for_death_ = false;
  }
  ShmChannel& ch = worker_->channel();
  while (posted_ - read_ < depth_ && posted_ - read_ < pending_.size()) {
    Task& t = pending_[posted_ - read_];
    ch.post(posted_ + 1, {t.msg.data(), t.msg.size()});
    t.seq = ++posted_;
    if (t.taken_back) t.taken_back = ch.cancel(t.seq);  // answered before it reached the ring
  }
  worker_->set_busy(posted_ != read_);
}

bool Isolation::take_back(Task& t) {
  if (!t.seq) return true;  // not in the ring yet: post_more cancels it as it posts it
  return worker_ && worker_->channel().cancel(t.seq);
}

void Isolation::drop_worker() {
  worker_.reset();  // kills and reaps it unless it was reaped
  posted_ = read_ = 0;
  stale_ = false;
  look_for_death_ = false;
  for (Task& t : pending_) t.seq = 0;
}

void Isolation::pop_front() {
  // Small buffers are kept for the next tasks; a big one is not held on to.
  if (pending_.front().msg.size() <= kSpareMaxBytes)
    spare_.push_back(std::move(pending_.front().msg));
  pending_.pop_front();
}

void Isolation::fail_front(Bytes& out, ErrorKind kind, const std::string& why) {
  const Task& t = pending_.front();
  answer_failed_call(t.msg.data(), t.msg.size(), out, t.submitted_ns, now_ns() - offset_, kind,
                     why);
  pop_front();
}

std::int64_t Isolation::deadline_of_running() const {
  if (!worker_ || posted_ == read_) return 0;
  const Task& t = pending_.front();
  if (!t.time_limit_ms) return 0;
  const ShmChannel& ch = worker_->channel();
  if (ch.taken() == read_) return 0;  // not started yet
  return ch.started_ns(read_ + 1) + std::int64_t(t.time_limit_ms) * 1'000'000;
}

bool Isolation::next(Bytes& out) {
  if (pending_.empty()) return false;
  if (!worker_) {
    post_more();
    if (!worker_) {
      std::string why = fmt::format("engine {} could not start a worker process for the task: {}",
                                    eng_->id(), start_error_);
      fail_front(out, ErrorKind::crashed, why);
      return true;
    }
  }
  ShmChannel& ch = worker_->channel();
  if (ch.replied() != read_) {  // replies come in order: this one is the oldest task's
    std::uint32_t flags = 0;
    std::span<const char> r = ch.reply(read_ + 1, flags);
    out.clear();
    if (flags & ShmChannel::kCancelled)
      out.swap(pending_.front().answer);
    else
      out.append(r.data(), r.size());
    ++read_;
    pop_front();
    worker_->set_busy(posted_ != read_);  // send_signal must not reach an idle worker
    // The worker leaves after a task that changed its namespace, before its next task.
    if (flags & ShmChannel::kNamespaceChanged) stale_ = true;
    post_more();
    return true;
  }
  if (posted_ == read_) {  // nothing in the ring: the worker is leaving, or could not be forked
    post_more();
    return false;
  }
  if (std::int64_t dl = deadline_of_running(); dl && steady_ns() >= dl) {
    pid_t pid = worker_->pid();
    worker_->kill_now();
    std::uint32_t limit = pending_.front().time_limit_ms;
    fail_front(out, ErrorKind::time_limit,
               fmt::format("the task ran past its time limit of {:g} s, so engine {} killed its "
                           "worker process (pid {}) and goes on with a fresh worker",
                           limit / 1e3, eng_->id(), pid));
    drop_worker();
    post_more();
    return true;
  }
  if (!look_for_death_ && !stale_ && ++idle_polls_ % kDeathCheckEvery != 0) return false;
  look_for_death_ = false;
  if (!worker_->exited()) return false;
  if (ch.replied() != read_) {  // what it answered before it died comes first
    look_for_death_ = true;
    return next(out);
  }
  bool started = ch.taken() != read_;
  worker_->reap();
  if (started || (!worker_->retired() && ++pending_.front().idle_deaths >= 2)) {
    fail_front(out, ErrorKind::crashed,
               fmt::format("the task's worker process (pid {}) {}; engine {} goes on with a "
                           "fresh worker",
                           worker_->pid(), worker_->how(), eng_->id()));
    drop_worker();
    post_more();
    return true;
  }
  // It died (or left) before the oldest task started: every posted task goes to a fresh one.
  drop_worker();
  post_more();
  return false;
}

void Isolation::wait(std::int64_t ns) {
  look_for_death_ = true;
  if (!worker_ || posted_ == read_) return;
  if (std::int64_t dl = deadline_of_running()) ns = std::min(ns, dl - steady_ns());
  if (ns > 0) worker_->wait(read_, ns);
}

}  // namespace mpiply::detail
