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
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>

#include "executor/executor.hpp"
#include "isolation/worker_process.hpp"

namespace mpiply::detail {

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
  bool busy() const noexcept { return !pending_.empty(); }
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
  struct Task {
    Bytes msg;
    std::int64_t submitted_ns;  // rank 0's clock: the failed answer's started stamp
    std::uint32_t time_limit_ms;
    std::uint32_t seq = 0;  // in the current worker's ring; 0 = not posted
    int idle_deaths = 0;    // workers that died before it started, while it was first in line
    bool taken_back = false;  // answered by the engine (answer), not run
    Bytes answer;
  };
  bool take_back(Task& t);  // cancels its slot if posted; false if the worker started it

  bool usable() const;
  void post_more();
  // The worker is gone (reaped): tasks it did not start go back to be posted to the next one.
  void drop_worker();
  void pop_front();  // keeps its buffer for the next submit
  void fail_front(Bytes& out, ErrorKind kind, const std::string& why);
  std::int64_t deadline_of_running() const;  // CLOCK_MONOTONIC ns, 0 if none

  Engine* eng_ = nullptr;
  std::int64_t offset_ = 0;
  unsigned depth_;  // ring slots
  std::unique_ptr<WorkerProcess> worker_;
  std::uint32_t posted_ = 0;  // last seq posted to worker_
  std::uint32_t read_ = 0;    // last seq whose reply was read
  bool stale_ = false;        // a task changed the worker's namespace: it leaves, post nothing
  bool look_for_death_ = false;
  unsigned idle_polls_ = 0;
  std::string start_error_;   // why the last fork failed
  std::deque<Task> pending_;  // submitted, in order; the first posted_ - read_ are in the ring
  std::vector<Bytes> spare_;  // message buffers of tasks given back
};

template <class Gate>
void Isolation::take_back_unstarted(Gate&& gate) {
  for (Task& t : pending_) {
    if (t.taken_back) continue;
    if (t.seq && worker_ && worker_->channel().taken() >= t.seq) continue;  // started
    if (!gate(std::span<const char>(t.msg.data(), t.msg.size()), t.answer)) continue;
    t.taken_back = take_back(t);
  }
}

}  // namespace mpiply::detail
