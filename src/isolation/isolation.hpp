#pragma once
// Where a task message runs: a call marked isolated (TaskHeader::run, set by rank 0 from
// TaskFlags::isolate / time_limit, RunOptions, MPIPLY_ISOLATE / MPIPLY_TASK_TIMEOUT) in this
// thread's worker process, everything else right here. One Isolation per thread that runs tasks
// (an engine's main thread, each of its worker threads, rank 0's engine slot or inline engine),
// hence one worker process per such thread.
//
// Isolated calls form a pipeline: submit() hands each to the worker through the shared ring at
// once (up to MPIPLY_HWM of them, more wait here), the worker runs them one after the other, and
// next() gives their results back in order as soon as each is there. When the worker dies, the
// task it was running fails with TaskCrashed (past its time limit: TaskTimeout, the engine kills
// it) and the tasks queued behind it run again on a fresh worker: they never started.
//
// The worker holds a copy of the engine as it was when forked, so it is replaced (killed, and
// forked again at the next isolated task) once the engine's namespace has changed since (a push,
// a clear, a non-isolated task that set a value) and after an isolated task changed the worker's
// own copy (the worker then leaves by itself before its next task): an isolated task sees the
// namespace as rank 0 and the engine left it, and whatever it sets there is dropped with its
// worker. A collective function calls MPI, which a worker must never do, so it runs in the
// engine even when marked isolated.
//
// Isolation coordinates two components: the tasks in order (TaskPipeline) and the worker they go
// to (ActiveWorker, which owns the WorkerProcess and its ring). It decides what a reply, a death
// or a time limit means for the oldest task.
#include <cstdint>
#include <span>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>

#include "executor/executor.hpp"
#include "isolation/active_worker.hpp"
#include "isolation/task_pipeline.hpp"

namespace mpiply::detail {

// Called now and then while the engine waits for a long task (the engine reads its control
// messages there, e.g. send_signal's).
struct WaitHook {
  void (*fn)(void*) = nullptr;
  void* ctx = nullptr;
  void operator()() const {
    if (fn) fn(ctx);
  }
};

class Isolation {
 public:
  // depth: ring slots, the tasks handed to the worker at once (1 when run() is the only use).
  explicit Isolation(unsigned depth = 1);
  ~Isolation();  // kills the worker process, if any
  Isolation(const Isolation&) = delete;
  Isolation& operator=(const Isolation&) = delete;

  // Whether msg is a call to run in the worker process (isolated, not collective).
  static bool isolated_call(std::span<const char> msg);

  // execute_task's contract (executor.hpp), isolated when the header says so, one task at a
  // time. hook runs before an isolated task starts and now and then while it runs (engines read
  // their control messages there). Call only when nothing is submitted.
  ExecResult run(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs, Bytes& out,
                 std::int64_t clock_offset_ns, const WaitHook& hook = {});

  // ---- the pipeline, for isolated_call messages ----
  // Copies msg and hands it to the worker (forked when needed) as soon as a slot is free.
  void submit(Engine& eng, std::span<const char> msg, std::int64_t clock_offset_ns);
  // Tasks submitted and not yet given back by next().
  bool busy() const noexcept { return !tasks_.empty(); }
  // The result of the oldest submitted task into out, if it is done (ran, crashed or timed out).
  bool next(Bytes& out);
  // The submitted tasks the worker has not started yet that gate(msg, answer) says must not run
  // (aborted on rank 0, or a drain began): writes their answer and takes them back from the
  // ring, so that next() gives that answer in their turn. A task the worker starts meanwhile runs.
  template <class Gate>
  void take_back_unstarted(Gate&& gate);
  // Sleeps until a result is there, the worker died or ns passed (less when a time limit falls
  // due sooner). Call only when busy().
  void wait(std::int64_t ns);

 private:
  bool take_back(TaskPipeline::Task& t);  // cancels its slot if posted; false if it started
  void post_more();
  // The worker is gone (reaped): tasks it did not start go back to be posted to the next one.
  void drop_worker();
  // The worker process ended with tasks in flight: what that means for the oldest one.
  bool worker_ended(Bytes& out);

  Engine* eng_ = nullptr;
  std::int64_t offset_ = 0;
  TaskPipeline tasks_;
  ActiveWorker worker_;
};

template <class Gate>
void Isolation::take_back_unstarted(Gate&& gate) {
  for (TaskPipeline::Task& t : tasks_) {
    if (t.taken_back) continue;
    if (t.seq && worker_.present() && worker_.ring().started(t.seq)) continue;
    if (!gate(std::span<const char>(t.msg.data(), t.msg.size()), t.answer)) continue;
    t.taken_back = take_back(t);
  }
}

}  // namespace mpiply::detail
