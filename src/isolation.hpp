#pragma once
// Where a task message runs: a call marked isolated (TaskHeader::run, set by rank 0 from
// TaskFlags::isolate / time_limit, RunOptions, MPIPLY_ISOLATE / MPIPLY_TASK_TIMEOUT) in this
// thread's worker process, everything else right here. One Isolation per thread that runs tasks
// (an engine's main thread, each of its worker threads, rank 0's engine slot or inline engine),
// hence one worker process per such thread.
//
// The worker holds a copy of the engine as it was when forked, so it is replaced (killed, and
// forked again at the next isolated task) once the engine's namespace has changed since (a push,
// a clear, a non-isolated task that set a value) and after an isolated task changed the worker's
// own copy: an isolated task sees the namespace as rank 0 and the engine left it, and whatever
// it sets there is dropped with its worker. A collective function calls MPI, which a worker must
// never do, so it runs in the engine even when marked isolated.
#include <cstdint>
#include <memory>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>

#include "executor.hpp"
#include "worker_process.hpp"

namespace mpiply::detail {

class Isolation {
 public:
  Isolation() = default;
  ~Isolation();  // kills the worker process, if any
  Isolation(const Isolation&) = delete;
  Isolation& operator=(const Isolation&) = delete;

  // execute_task's contract (executor.hpp), isolated when the header says so. A worker that
  // dies fails the task's items with TaskCrashed, one past its time limit with TaskTimeout; the
  // next isolated task gets a fresh worker. hook runs before an isolated task starts and now and
  // then while it runs (engines read their control messages there).
  ExecResult run(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs, Bytes& out,
                 std::int64_t clock_offset_ns, const WaitHook& hook = {});

 private:
  bool usable(Engine& eng) const;
  ExecResult run_isolated(Engine& eng, const char* msg, std::size_t n, Bytes& out,
                          std::int64_t clock_offset_ns, const WaitHook& hook,
                          std::uint32_t time_limit_ms);

  std::unique_ptr<WorkerProcess> worker_;
  bool stale_ = false;  // the last task changed the worker's namespace
};

}  // namespace mpiply::detail
