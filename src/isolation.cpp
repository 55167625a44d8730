// Isolated tasks: pick or fork the worker, run the message there, and turn a death or a time
// limit into the task's error items.
#include "isolation.hpp"

#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "clock.hpp"

namespace mpiply::detail {

Isolation::~Isolation() = default;

bool Isolation::usable(Engine& eng) const {
  return worker_ && !stale_ && !worker_->dead() && worker_->engine() == &eng &&
         worker_->generation() == eng.store().generation();
}

ExecResult Isolation::run(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs,
                          Bytes& out, std::int64_t clock_offset_ns, const WaitHook& hook) {
  if (n >= sizeof(TaskHeader)) {
    TaskHeader h;
    std::memcpy(&h, msg, sizeof h);
    if (h.kind == Kind::call && (h.run & kRunIsolated)) {
      const FunctionEntry* fe = find_by_id(h.fn_id);
      if (!(fe && fe->collective))
        return run_isolated(eng, msg, n, out, clock_offset_ns, hook, h.time_limit_ms);
    }
  }
  return execute_task(eng, msg, n, segs, out, clock_offset_ns);
}

ExecResult Isolation::run_isolated(Engine& eng, const char* msg, std::size_t n, Bytes& out,
                                   std::int64_t offset, const WaitHook& hook,
                                   std::uint32_t time_limit_ms) {
  hook();  // control messages that came before this task are not for it
  std::int64_t started = now_ns() - offset;
  // A worker that died while idle (a late signal, its forking thread ended) is replaced and the
  // task sent again, once: it never started there.
  for (int attempt = 0;; ++attempt) {
    if (!usable(eng)) {
      worker_.reset();
      stale_ = false;
      try {
        worker_ = std::make_unique<WorkerProcess>(eng, offset);
      } catch (const std::exception& e) {
        answer_failed_call(msg, n, out, started, now_ns() - offset, ErrorKind::crashed,
                           fmt::format("engine {} could not start a worker process for the "
                                       "task: {}",
                                       eng.id(), e.what()));
        return {};
      }
    }
    bool changed = false;
    WorkerProcess::Outcome oc = worker_->run({msg, n}, out, time_limit_ms, hook, changed);
    std::int64_t completed = now_ns() - offset;
    switch (oc) {
      case WorkerProcess::Outcome::replied:
        stale_ = changed;
        return {};
      case WorkerProcess::Outcome::died_before_start:
        if (attempt == 0) continue;
        [[fallthrough]];
      case WorkerProcess::Outcome::died:
        answer_failed_call(msg, n, out, started, completed, ErrorKind::crashed,
                           fmt::format("the task's worker process (pid {}) {}; engine {} goes "
                                       "on with a fresh worker",
                                       worker_->pid(), worker_->how(), eng.id()));
        return {};
      case WorkerProcess::Outcome::timed_out:
        answer_failed_call(msg, n, out, started, completed, ErrorKind::time_limit,
                           fmt::format("the task ran past its time limit of {:g} s, so engine "
                                       "{} killed its worker process (pid {}) and goes on with a "
                                       "fresh worker",
                                       time_limit_ms / 1e3, eng.id(), worker_->pid()));
        return {};
    }
  }
}

}  // namespace mpiply::detail
