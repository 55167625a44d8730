#pragma once
// One worker process: forked from an engine (or rank 0's inline engine) once and reused for every
// isolated task until it dies, times out or holds a namespace that is out of date. It owns what
// the worker needs from the engine's side and keeps them in step: the shared ring (ShmRing) and
// the engine's end of it, the child's pid and exit status (ChildProcess), and its entry in
// send_signal's list (SignalListEntry). The child runs worker_main (worker_main.hpp).
#include <cstdint>

#include <mpiply/engine.hpp>

#include "isolation/child_process.hpp"
#include "isolation/ring_engine_end.hpp"
#include "isolation/shm_ring.hpp"
#include "isolation/signal_list_entry.hpp"

namespace mpiply::detail {

class WorkerProcess {
 public:
  // Forks the worker from the calling thread, with a ring of `slots` task slots. Throws Error if
  // it cannot.
  WorkerProcess(Engine& eng, std::int64_t clock_offset_ns, unsigned slots);
  ~WorkerProcess();  // kills and reaps the worker unless it was reaped
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // The ring the tasks go through (Isolation posts and reads it).
  RingEngineEnd& ring() noexcept { return end_; }
  const ChildProcess& process() const noexcept { return child_; }
  // Whether it can take eng's next tasks: alive, forked from eng, and eng's namespace has not
  // changed since.
  bool serves(Engine& eng) const;
  // Whether send_signal should reach this worker: set while tasks are posted and not answered.
  void set_busy(bool busy) noexcept;
  // Sleeps until a reply to a request in flight is there, the worker died, or ns passed.
  void wait(std::int64_t ns);
  void reap();      // takes it off the signal list, then waits for it
  void kill_now();  // takes it off the signal list, then SIGKILL and reap

 private:
  Engine* eng_;
  std::uint64_t generation_;  // of the engine's namespace when forked
  ShmRing ring_;
  RingEngineEnd end_;
  ChildProcess child_;
  SignalListEntry signals_;
};

}  // namespace mpiply::detail
