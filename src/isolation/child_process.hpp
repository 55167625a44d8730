#pragma once
// The operating-system side of one forked worker: its pid, a pidfd to poll for its death, and,
// once it is reaped, how it ended. WorkerProcess owns it and reaps it only after taking its pid
// off send_signal's list (signal_list_entry.hpp).
#include <sys/types.h>

#include <string>

namespace mpiply::detail {

class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid);  // opens its pidfd (none on old kernels: then poll)
  ~ChildProcess();                   // closes the pidfd; reaping is the owner's choice
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return pidfd_; }  // -1 when there is none
  // Whether it has ended (it is not reaped: call reap() then).
  bool exited() const;
  void reap();  // waits for it
  void kill_and_reap();
  bool dead() const noexcept { return reaped_; }
  // It left on its own after a task changed its namespace (it runs no task after such a one).
  bool retired() const noexcept { return retired_; }
  // "died of signal 11 (SIGSEGV, Segmentation fault)" or "exited with status 3", once dead.
  const std::string& how() const noexcept { return how_; }

 private:
  pid_t pid_;
  int pidfd_ = -1;
  bool reaped_ = false;
  bool retired_ = false;
  std::string how_;
};

// "SIGSEGV", or "signal 42".
std::string signal_name(int sig);

}  // namespace mpiply::detail
