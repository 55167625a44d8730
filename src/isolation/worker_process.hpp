#pragma once
// One worker process: forked from an engine (or rank 0's inline engine) once and reused for every
// isolated task until it dies, times out or holds a namespace that is out of date. The child never
// calls MPI and leaves only with _exit; it runs execute_task (executor.hpp) on its copy of the
// engine and talks to the engine through a ShmChannel.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>

#include "isolation/shm_channel.hpp"

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

class WorkerProcess {
 public:
  // Forks the worker from the calling thread, with a ring of `slots` task slots. Throws Error if
  // it cannot.
  WorkerProcess(Engine& eng, std::int64_t clock_offset_ns, unsigned slots);
  ~WorkerProcess();  // kills and reaps the worker
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // The ring the tasks go through (Isolation posts and reads it).
  ShmChannel& channel() noexcept { return *ch_; }
  // Whether send_signal should reach this worker: set while tasks are posted and not answered.
  void set_busy(bool busy) noexcept;
  // Sleeps until a reply past `read` is there, the worker died, or ns passed.
  void wait(std::uint32_t read, std::int64_t ns);

  // Whether the worker has ended (it is not reaped: call reap() then).
  bool exited() const;
  void reap();      // takes it off the signal list, then waits for it
  void kill_now();  // SIGKILL, then reap
  // It left on its own after a task changed its namespace (it runs no task after such a one).
  bool retired() const noexcept { return retired_; }

  // "died of signal 11 (SIGSEGV, Segmentation fault)" or "exited with status 3", once dead.
  const std::string& how() const noexcept { return how_; }
  pid_t pid() const noexcept { return pid_; }
  bool dead() const noexcept { return reaped_; }
  const Engine* engine() const noexcept { return eng_; }
  std::uint64_t generation() const noexcept { return generation_; }
  bool has_pidfd() const noexcept { return pidfd_ >= 0; }

 private:
  Engine* eng_;
  std::uint64_t generation_;  // of the engine's namespace when forked
  std::unique_ptr<ShmChannel> ch_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int slot_ = -1;  // in the list send_signal reads
  bool reaped_ = false;
  bool retired_ = false;
  std::string how_;
};

// Sends sig to the worker process of every isolated task running in this process now; returns
// how many. Safe from any thread (send_signal's control messages, rank 0's own engine).
int signal_running_tasks(int sig);

// "SIGSEGV", or "signal 42".
std::string signal_name(int sig);

}  // namespace mpiply::detail
