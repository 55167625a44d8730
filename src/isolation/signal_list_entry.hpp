#pragma once
// send_signal's reach into isolated tasks: a list, for the whole process, of the worker processes
// that run a task now. Each WorkerProcess holds one entry for its life and sets its pid there
// while tasks are posted to it; signal_running_tasks signals every pid listed. An entry is
// cleared under the list's lock before its worker is reaped, and signal_running_tasks signals
// under that lock, so a pid it reads is never one that was reaped (and perhaps reused).
#include <sys/types.h>

namespace mpiply::detail {

class SignalListEntry {
 public:
  SignalListEntry();   // claims a free entry; with none left, send_signal misses this worker
  ~SignalListEntry();  // gives it back
  SignalListEntry(const SignalListEntry&) = delete;
  SignalListEntry& operator=(const SignalListEntry&) = delete;

  // The pid that send_signal reaches through this entry now, 0 for none. Cheap (no lock): only
  // clear() must be ordered with signal_running_tasks.
  void set(pid_t pid) noexcept;
  // Before the worker is reaped: once this returns, no signal goes to its pid.
  void clear();

 private:
  int index_;  // -1: none was free
};

// Sends sig to the worker process of every isolated task running in this process now; returns
// how many. Safe from any thread (send_signal's control messages, rank 0's own engine).
int signal_running_tasks(int sig);

}  // namespace mpiply::detail
