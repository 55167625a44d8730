// Isolated tasks: pick or fork the worker, keep the ring full, and turn a death or a time limit
// into the error items of the one task it hit, while the tasks behind it go to a fresh worker.
#include "isolation/isolation.hpp"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <string>

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

}  // namespace

Isolation::Isolation(unsigned depth) : worker_(depth) {}

Isolation::~Isolation() = default;

bool Isolation::isolated_call(std::span<const char> msg) {
  if (msg.size() < sizeof(TaskHeader)) return false;
  TaskHeader h;
  std::memcpy(&h, msg.data(), sizeof h);
  if (h.kind != Kind::call || !(h.run & kRunIsolated)) return false;
  const FunctionEntry* fe = find_by_id(h.fn_id);
  return !(fe && fe->collective);
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
  tasks_.push(msg, now_ns() - clock_offset_ns, h.time_limit_ms);
  post_more();
}

void Isolation::post_more() {
  if (tasks_.empty() || !worker_.ready_for(*eng_, offset_)) return;
  RingEngineEnd& ring = worker_.ring();
  // The first in_flight() tasks are in the ring; the next ones go while it has room.
  while (ring.has_room() && ring.in_flight() < tasks_.size()) {
    TaskPipeline::Task& t = tasks_[ring.in_flight()];
    // A task answered before it reached this ring (aborted, or a drain began; or taken back from
    // a worker that died since) goes in taken back: posted and then cancelled, a fresh worker
    // could take it in between and run it, its abort already spent.
    t.seq = ring.post({t.msg.data(), t.msg.size()}, t.taken_back);
  }
  worker_.process().set_busy(ring.in_flight() != 0);
}

bool Isolation::take_back(TaskPipeline::Task& t) {
  if (!t.seq) return true;  // not in the ring yet: post_more cancels it as it posts it
  return worker_.present() && worker_.ring().cancel(t.seq);
}

void Isolation::drop_worker() {
  worker_.drop();
  tasks_.unpost_all();
}

bool Isolation::next(Bytes& out) {
  if (tasks_.empty()) return false;
  if (!worker_.present()) {
    post_more();
    if (!worker_.present()) {
      std::string why = fmt::format("engine {} could not start a worker process for the task: {}",
                                    eng_->id(), worker_.start_error());
      tasks_.fail_front(out, ErrorKind::crashed, why, now_ns() - offset_);
      return true;
    }
  }
  WorkerProcess& w = worker_.process();
  RingEngineEnd& ring = w.ring();
  if (ring.has_reply()) {  // replies come in order: this one is the oldest task's
    std::uint32_t flags = 0;
    std::span<const char> r = ring.take_reply(flags);
    tasks_.answer_front(out, r, flags & ShmRing::Slot::kCancelled);
    w.set_busy(ring.in_flight() != 0);  // send_signal must not reach an idle worker
    // The worker leaves after a task that changed its namespace, before its next task.
    if (flags & ShmRing::Slot::kNamespaceChanged) worker_.leave();
    post_more();
    return true;
  }
  if (ring.in_flight() == 0) {  // nothing in the ring: the worker is leaving
    post_more();
    return false;
  }
  std::uint32_t limit = tasks_.front().time_limit_ms;
  if (std::int64_t dl = worker_.deadline(limit); dl && steady_ns() >= dl) {
    pid_t pid = w.process().pid();
    w.kill_now();
    tasks_.fail_front(out, ErrorKind::time_limit,
                      fmt::format("the task ran past its time limit of {:g} s, so engine {} "
                                  "killed its worker process (pid {}) and goes on with a fresh "
                                  "worker",
                                  limit / 1e3, eng_->id(), pid),
                      now_ns() - offset_);
    drop_worker();
    post_more();
    return true;
  }
  if (!worker_.death_check_due() || !w.process().exited()) return false;
  return worker_ended(out);
}

bool Isolation::worker_ended(Bytes& out) {
  WorkerProcess& w = worker_.process();
  if (w.ring().has_reply()) {  // what it answered before it died comes first
    worker_.look_for_death();
    return next(out);
  }
  bool started = w.ring().oldest_started();
  w.reap();
  // A task that never started fails only when a second worker dies before it starts.
  bool failed = started || (!w.process().retired() && ++tasks_.front().idle_deaths >= 2);
  if (failed)
    tasks_.fail_front(out, ErrorKind::crashed,
                      fmt::format("the task's worker process (pid {}) {}; engine {} goes on with "
                                  "a fresh worker",
                                  w.process().pid(), w.process().how(), eng_->id()),
                      now_ns() - offset_);
  // Otherwise it died (or left) before the oldest task started: every posted task goes to a
  // fresh one.
  drop_worker();
  post_more();
  return failed;
}

void Isolation::wait(std::int64_t ns) {
  worker_.look_for_death();
  if (!worker_.present() || worker_.ring().in_flight() == 0) return;
  if (std::int64_t dl = worker_.deadline(tasks_.front().time_limit_ms))
    ns = std::min(ns, dl - steady_ns());
  if (ns > 0) worker_.process().wait(ns);
}

}  // namespace mpiply::detail
