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

#include "shm_channel.hpp"

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
  enum class Outcome { replied, died, died_before_start, timed_out };

  // Forks the worker from the calling thread. Throws Error if it cannot.
  WorkerProcess(Engine& eng, std::int64_t clock_offset_ns);
  ~WorkerProcess();  // kills and reaps the worker
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Runs one task message. replied: the result is in out, and namespace_changed says whether
  // the task changed the worker's namespace. died: the worker is gone, how() says of what.
  // timed_out: the worker was killed after time_limit_ms (0: no limit).
  Outcome run(std::span<const char> msg, Bytes& out, std::uint32_t time_limit_ms,
              const WaitHook& hook, bool& namespace_changed);

  // "died of signal 11 (SIGSEGV, Segmentation fault)" or "exited with status 3", once dead.
  const std::string& how() const noexcept { return how_; }
  pid_t pid() const noexcept { return pid_; }
  bool dead() const noexcept { return reaped_; }
  const Engine* engine() const noexcept { return eng_; }
  std::uint64_t generation() const noexcept { return generation_; }

 private:
  bool exited() const;  // without reaping it
  void reap();          // takes it off the signal list, then waits for it
  void kill_now();

  Engine* eng_;
  std::uint64_t generation_;  // of the engine's namespace when forked
  std::unique_ptr<ShmChannel> ch_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int slot_ = -1;  // in the list send_signal reads
  bool reaped_ = false;
  std::string how_;
};

// Sends sig to the worker process of every isolated task running in this process now; returns
// how many. Safe from any thread (send_signal's control messages, rank 0's own engine).
int signal_running_tasks(int sig);

// "SIGSEGV", or "signal 42".
std::string signal_name(int sig);

}  // namespace mpiply::detail
