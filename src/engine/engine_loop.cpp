// The engine loop: tests its posted task receives (src/wire/transport.*) with spin-then-sleep back-off,
// so an idle engine sleeps instead of burning a core while back-to-back tasks need no sleep.
#include "engine/engine_loop.hpp"

#include <sched.h>

#include <mpiply/detail/wire.hpp>

#include "support/backoff.hpp"
#include "support/clock.hpp"
#include "engine/drain_engine.hpp"
#include "engine/engine_abort.hpp"
#include "engine/engine_control.hpp"
#include "executor/engine_payload.hpp"
#include "engine/engine_workers.hpp"
#include "engine/result_outbox.hpp"
#include "executor/executor.hpp"
#include "isolation/isolation.hpp"
#include "support/mpi_check.hpp"
#include "support/trace_points.hpp"
#include "executor/output_capture.hpp"
#include "executor/published_data.hpp"
#include "runtime/settings.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {
// How long the engine polls for a result of its worker process (and new task messages) before it
// sleeps on the worker's wake-up: back-to-back short tasks answer within it.
constexpr std::int64_t kIsolatedSpinNs = 50'000;
}  // namespace

void MpiSegments::fetch(char* dst, std::size_t n) {
  for (std::size_t off = 0; off < n; off += kSegmentPiece) {
    std::size_t len = std::min<std::size_t>(kSegmentPiece, n - off);
    mpi_check(MPI_Recv(dst + off, static_cast<int>(len), MPI_BYTE, 0, kTagSegment, comm_,
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
  }
}

namespace {

// Capture on: descriptors 1 and 2 stay on the memory files while this engine serves (one lseek
// per stream per task instead of four dup2), and are put back when it stops.
struct CaptureForServe {
  explicit CaptureForServe(bool one_thread) {
    if (settings().capture_output) output_capture_keep_redirected(one_thread);
    set_live_data(settings().stream_output);
  }
  ~CaptureForServe() {
    output_capture_release();
    set_live_data(false);
  }
};

int serve_one_thread(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns);

}  // namespace

int serve(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  // Streaming needs this thread free for MPI while tasks run: they go to a worker thread.
  int threads = settings().engine_threads;
  bool threaded = threads > 1 || settings().stream_output;
  CaptureForServe capture(!threaded);
  if (threaded) return serve_threaded(comm, eng, clock_offset_ns, threads);
  return serve_one_thread(comm, eng, clock_offset_ns);
}

namespace {

int serve_one_thread(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns) {
  PayloadThread payloads;  // pulls run on this thread, which sends their payloads
  Bytes out, held;
  MpiSegments segs(comm);
  TaskInbox inbox(comm);
  // Control messages matter only while an isolated task runs, which is when the hook reads them.
  ControlInbox control(comm);
  WaitHook hook{&ControlInbox::poll_hook, &control};
  // Isolated calls are pipelined: all the engine holds go to its worker process at once, and
  // each result leaves as soon as it is there (isolation.hpp).
  Isolation iso(static_cast<unsigned>(settings().hwm));
  Backoff b(kEngineBackoff);
  EngineAborts aborts(comm);
  ResultOutbox results(comm);
  // hold: the result may wait to leave with its bundle's next results (result_outbox.hpp).
  auto send = [&](Bytes& res, bool hold = false) {
    if (res.size() > max_message_bytes()) replace_with_too_large(res);
    results.send(res, hold);
    send_pending_payload(comm);  // a pull_into's value follows its result
  };
  // Between waits: control messages; aborts and a drain reach the isolated tasks not started.
  auto between_waits = [&] {
    control.poll();
    aborts.poll();
    iso.take_back_unstarted([&](std::span<const char> m, Bytes& answer) {
      return aborts.answer_if_aborted(m, eng, answer) ||
             answer_if_draining(eng, m.data(), m.size(), answer, clock_offset_ns);
    });
  };
  // Every isolated task before the next message is answered first: results leave in task order.
  auto finish_isolated = [&] {
    while (iso.busy()) {
      if (iso.next(out)) {
        send(out);
      } else {
        iso.wait(1'000'000);
        between_waits();
      }
    }
  };
  unsigned quiet = 0;          // polls without news while isolated tasks run
  std::int64_t quiet_from = 0;  // steady clock, when they began
  for (;;) {
    if (inbox.pieces_left() == 0) results.flush();  // held results never outlast their bundle
    bool moved = false;
    while (iso.busy() && iso.next(out)) {
      send(out);
      moved = true;
    }
    std::span<const char> msg;
    if (!inbox.poll(msg)) {
      if (moved) {
        b.reset();
        quiet = 0;
      } else if (iso.busy()) {
        // The worker process needs a core more than this loop does (rank 0, the engine and the
        // worker share the cores): poll briefly, yielding, then sleep until a result comes, the
        // worker dies or the back-off interval ends (rank 0 may have sent more tasks).
        // Yielding on every poll, not only after a while, made isolated applies and maps
        // faster on 2 shared cores; pure spinning was far slower (the worker waited for this
        // loop's time slice to end). Figures: docs/benchmarks-log.md, last section.
        std::int64_t t = steady_ns();
        if (quiet++ == 0) quiet_from = t;
        if (t - quiet_from < kIsolatedSpinNs) {
          sched_yield();
          continue;
        }
        between_waits();
        b.sleep_with([&](std::int64_t ns) { iso.wait(ns); });
        between_waits();
      } else if (!b.spinning()) {
        b.sleep();
      }
      continue;
    }
    b.reset();
    quiet = 0;
    bool piped = Isolation::isolated_call(msg);
    if (piped)
      control.poll();  // a signal sent before this task is not for it
    else
      finish_isolated();
    // abort hook: a task aborted on rank 0 is answered without running; drain hook: a call
    // that has not started is answered as not run.
    bool answered = aborts.answered(msg, eng, out) ||
                    answer_if_draining(eng, msg.data(), msg.size(), out, clock_offset_ns);
    if (piped && !answered) {
      iso.submit(eng, msg, clock_offset_ns);
      continue;
    }
    if (piped) {  // answered here: the isolated tasks before it go first
      held.swap(out);
      finish_isolated();
      held.swap(out);
    }
    ExecResult res;
    if (!answered) {
      MPIPLY_TRACE(task_run);
      res = iso.run(eng, msg.data(), msg.size(), segs, out, clock_offset_ns, hook);
      MPIPLY_TRACE(task_ran);
    }
    if (res.stop) {
      results.flush();
      return res.stop_code;
    }
    send(out, !answered && may_hold_result(msg.data(), msg.size(), inbox.bundle_flags(),
                                           inbox.pieces_left()));
  }
}

}  // namespace

}  // namespace mpiply::detail
