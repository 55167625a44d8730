// The worker process and the engine's side of it. Facts of this stack it rests on (docs/isolation.md):
// fork after MPI_Init works with vader and tcp as long as the child never calls MPI and leaves
// with _exit; the child inherits Open MPI's SIGSEGV handler, so the worker resets every handler; a
// child's death reaches the engine through waitpid and MPI goes on; a fork and wait costs far more
// than a task message, hence one worker reused for many tasks.
#include "isolation/worker_process.hpp"
#include "executor/task_grant.hpp"

#include <poll.h>
#include <signal.h>
#include <stdio_ext.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

#include "executor/executor.hpp"
#include "executor/output_capture.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {

// The worker checks this often whether its engine still exists (PR_SET_PDEATHSIG covers the
// usual case; this covers a forking thread that ended before the engine).
constexpr int kParentCheckMs = 500;
// The worker's exit status when it cannot go on (e.g. no memory for a result in shared memory).
constexpr int kWorkerBroken = 121;
// The worker's exit status when it leaves after a task changed its namespace: the tasks posted
// behind that one must run on a fresh copy of the engine, so it runs none of them.
constexpr int kWorkerRetired = 122;

// The workers of this process that run a task now, for send_signal. A slot's pid is set while
// its task runs. Reaping a worker first clears its slot under g_mu, and signal_running_tasks
// kills under g_mu, so a pid read there is never one that was reaped (and perhaps reused).
constexpr int kSlots = 1100;
std::atomic<pid_t> g_busy[kSlots];
bool g_claimed[kSlots];
std::mutex g_mu;

int claim_slot() {
  std::lock_guard lk(g_mu);
  for (int i = 0; i < kSlots; ++i)
    if (!g_claimed[i]) {
      g_claimed[i] = true;
      g_busy[i].store(0);
      return i;
    }
  return -1;  // send_signal then misses this worker; nothing else changes
}

void release_slot(int i) {
  if (i < 0) return;
  std::lock_guard lk(g_mu);
  g_busy[i].store(0);
  g_claimed[i] = false;
}

// Calls never read pushed segments; a call message that claims one is answered with an error.
class NoSegments : public SegmentFetcher {
 public:
  void fetch(char*, std::size_t) override {
    throw ValueDecodeError("a call message cannot carry pushed segments");
  }
};

// exit() in a task: leave at once with its status. Registered last in the worker, so it runs
// before every handler inherited from the engine (Open MPI's among them: they must not run in a
// copy of the engine). What the task printed is flushed first.
void leave_now(int status, void*) {
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(status);
}

[[noreturn]] void worker_main(Engine& eng, ShmChannel& ch, std::int64_t offset, pid_t parent) {
  // Output the engine had buffered but not written belongs to the engine, not to this copy.
  __fpurge(stdout);
  __fpurge(stderr);
  output_capture_in_child();
  mark_worker_process();  // each call's GPUs become its CUDA_VISIBLE_DEVICES
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  on_exit(leave_now, nullptr);

  std::uint64_t generation = eng.store().generation();
  NoSegments no_segments;
  Bytes out;
  try {
    for (;;) {
      std::span<const char> msg;
      while (!ch.wait_request(kParentCheckMs, msg))
        if (getppid() != parent) _exit(0);
      execute_task(eng, msg.data(), msg.size(), no_segments, out, offset);
      std::fflush(stdout);
      std::fflush(stderr);
      // A result that cannot travel is replaced here, so that any result fits its slot.
      if (out.size() > max_message_bytes()) replace_with_too_large(out);
      std::memcpy(ch.reply_buffer(), out.data(), out.size());
      bool changed = eng.store().generation() != generation;
      ch.post_reply(out.size(), changed ? ShmChannel::kNamespaceChanged : 0);
      if (changed) _exit(kWorkerRetired);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpiply: engine %d's worker process cannot go on: %s\n", eng.id(),
                 e.what());
  }
  std::fflush(stderr);
  _exit(kWorkerBroken);
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* text = strsignal(sig);
    std::string s = fmt::format("died of signal {} ({}: {})", sig, signal_name(sig),
                                text ? text : "unknown");
    if (sig == SIGKILL)
      s += " - the out-of-memory killer, send_signal or a kill -9 sends that";
    return s;
  }
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == kWorkerBroken)
      return fmt::format("exited with status {} (it could not go on: see the engine's stderr)",
                         code);
    return fmt::format("exited with status {} (the task called exit)", code);
  }
  return fmt::format("ended with wait status {:#x}", status);
}

}  // namespace

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

int signal_running_tasks(int sig) {
  std::lock_guard lk(g_mu);
  int n = 0;
  for (int i = 0; i < kSlots; ++i) {
    if (!g_claimed[i]) continue;
    pid_t p = g_busy[i].load();
    if (p > 0 && kill(p, sig) == 0) ++n;
  }
  return n;
}

WorkerProcess::WorkerProcess(Engine& eng, std::int64_t clock_offset_ns, unsigned slots)
    : eng_(&eng), generation_(eng.store().generation()),
      ch_(std::make_unique<ShmChannel>(slots)) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    throw Error(fmt::format("mpiply: engine {} could not fork its worker process: {}", eng.id(),
                            std::strerror(errno)));
  if (pid == 0) worker_main(eng, *ch_, clock_offset_ns, parent);
  pid_ = pid;
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels: we poll
  slot_ = claim_slot();
}

WorkerProcess::~WorkerProcess() {
  if (!reaped_) kill_now();
  if (pidfd_ >= 0) close(pidfd_);
  release_slot(slot_);
}

bool WorkerProcess::exited() const {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;  // not ours any more: gone
  return info.si_pid == pid_;
}

void WorkerProcess::reap() {
  if (slot_ >= 0) {
    std::lock_guard lk(g_mu);
    g_busy[slot_].store(0);
  }
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  retired_ = r == pid_ && WIFEXITED(status) && WEXITSTATUS(status) == kWorkerRetired;
  how_ = r == pid_ ? describe(status) : std::string("vanished (it was reaped elsewhere)");
}

void WorkerProcess::kill_now() {
  if (slot_ >= 0) {
    std::lock_guard lk(g_mu);
    g_busy[slot_].store(0);
  }
  kill(pid_, SIGKILL);
  reap();
}

void WorkerProcess::set_busy(bool busy) noexcept {
  if (slot_ >= 0 && !reaped_) g_busy[slot_].store(busy ? pid_ : 0, std::memory_order_relaxed);
}

void WorkerProcess::wait(std::uint32_t read, std::int64_t ns) {
  if (pidfd_ < 0) ns = std::min<std::int64_t>(ns, 2'000'000);  // no pidfd: look for a death often
  if (!ch_->begin_sleep(read)) return;
  pollfd fds[2] = {{ch_->wake_fd(), POLLIN, 0}, {pidfd_, POLLIN, 0}};
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  ppoll(fds, pidfd_ >= 0 ? 2 : 1, &ts, nullptr);
  ch_->end_sleep();
}

}  // namespace mpiply::detail
