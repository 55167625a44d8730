// The worker process's own code (worker_main.hpp). Facts of this stack it rests on
// (docs/isolation.md): fork after MPI_Init works with vader and tcp as long as the child never
// calls MPI and leaves with _exit; the child inherits Open MPI's SIGSEGV handler, so the worker
// resets every handler.
#include "isolation/worker_main.hpp"

#include <signal.h>
#include <stdio_ext.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <span>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/errors.hpp>

#include "executor/executor.hpp"
#include "executor/output_capture.hpp"
#include "executor/task_grant.hpp"
#include "isolation/ring_worker_end.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {

// The worker checks this often whether its engine still exists (PR_SET_PDEATHSIG covers the
// usual case; this covers a forking thread that ended before the engine).
constexpr int kParentCheckMs = 500;

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

// Leaves the engine's output, signal handlers and mask behind.
void become_worker(pid_t parent) {
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
}

}  // namespace

void worker_main(Engine& eng, ShmRing& ring, std::int64_t offset, pid_t parent) {
  become_worker(parent);
  RingWorkerEnd ch(ring);
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
      ch.post_reply(out.size(), changed ? ShmRing::Slot::kNamespaceChanged : 0);
      if (changed) _exit(kWorkerRetired);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpiply: engine %d's worker process cannot go on: %s\n", eng.id(),
                 e.what());
  }
  std::fflush(stderr);
  _exit(kWorkerBroken);
}

}  // namespace mpiply::detail
