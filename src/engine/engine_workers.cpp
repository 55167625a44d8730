// The multi-threaded engine. Why it is shaped this way:
// - Only this rank's main thread calls MPI (runtime/thread_level.hpp: mpiply asks MPI for no more
//   than one thread in it at a time, and on Open MPI for MPI_THREAD_SINGLE). Workers
//   get a copy of the task message (the inbox reuses its buffer at the next poll) and write the
//   result into their job; the main thread sends it.
// - Results leave in task order, holding a finished task until those before it are done. Rank 0
//   is then unchanged: its per-engine ring (client/engine_links.hpp) still matches each result to the
//   oldest outstanding task and checks its msg id. The cost is that a slow task delays the
//   results (not the running) of later ones; rank 0 keeps at least `threads` tasks on the engine
//   (effective hwm = max(hwm, threads)), so workers do not starve behind it.
// - Only calls run on workers. A push, pull, clear, a call of a collective function (it calls
//   MPI) or a message that does not decode waits until every earlier task has finished and been
//   answered, then runs on the main thread: its segments arrive over MPI, and tasks see the
//   namespace as they would on a one-thread engine (a task sent after a push sees the pushed
//   value; one sent before it never sees it change).
// - Isolated calls (isolation.hpp) run on workers too, each worker thread with its own worker
//   process. The main thread reads control messages (send_signal) while it waits, so a signal
//   reaches the worker processes of whichever isolated tasks run at that moment.
#include "engine/engine_workers.hpp"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/backoff.hpp"
#include "engine/drain_engine.hpp"
#include "engine/engine_abort.hpp"
#include "engine/engine_control.hpp"
#include "executor/engine_payload.hpp"
#include "engine/engine_loop.hpp"
#include "engine/engine_stream.hpp"
#include "executor/executor.hpp"
#include "isolation/isolation.hpp"
#include "runtime/settings.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {

struct Job {
  Bytes msg;
  Bytes out;
  std::atomic<bool> done{false};
};

// Calls never read segments; a call message that claims one is answered with an error.
class NoSegments : public SegmentFetcher {
 public:
  void fetch(char*, std::size_t) override {
    throw ValueDecodeError("a call message cannot carry pushed segments");
  }
};

class WorkerPool {
 public:
  WorkerPool(Engine& eng, int threads, std::int64_t clock_offset_ns, EngineAborts& aborts)
      : eng_(eng), offset_(clock_offset_ns), aborts_(aborts) {
    threads_.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { work(i); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(Job* j) {
    {
      std::lock_guard lk(mu_);
      queue_.push_back(j);
    }
    work_cv_.notify_one();
  }

  // Waits at most ns for a task to finish (returns at once if one finished since `seen`).
  void wait_finished(std::uint64_t& seen, std::int64_t ns) {
    std::unique_lock lk(done_mu_);
    done_cv_.wait_for(lk, std::chrono::nanoseconds(ns), [&] { return finished_ != seen; });
    seen = finished_;
  }

 private:
  void work(int index) {
    NoSegments none;
    Isolation iso;  // this thread's worker process, forked at its first isolated task
    for (;;) {
      Job* j;
      {
        std::unique_lock lk(mu_);
        work_cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        j = queue_.front();
        queue_.pop_front();
      }
      // abort and drain hooks: a call aborted on rank 0, or still waiting for a worker when
      // a drain began, is answered without running
      if (!aborts_.answer_if_aborted({j->msg.data(), j->msg.size()}, eng_, j->out) &&
          !answer_if_draining(eng_, j->msg.data(), j->msg.size(), j->out, offset_))
        iso.run(eng_, j->msg.data(), j->msg.size(), none, j->out, offset_);
      if (j->out.size() >= sizeof(ResultHeader)) {
        auto thread = static_cast<std::uint32_t>(index);
        std::memcpy(j->out.data() + offsetof(ResultHeader, thread), &thread, sizeof thread);
      }
      if (j->out.size() > max_message_bytes()) replace_with_too_large(j->out);
      j->done.store(true, std::memory_order_release);
      {
        std::lock_guard lk(done_mu_);
        ++finished_;
      }
      done_cv_.notify_one();
    }
  }

  Engine& eng_;
  std::int64_t offset_;
  EngineAborts& aborts_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<Job*> queue_;
  bool stop_ = false;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::uint64_t finished_ = 0;
  std::vector<std::thread> threads_;
};

class ThreadedEngine {
 public:
  ThreadedEngine(MPI_Comm comm, Engine& eng, std::int64_t offset, int threads)
      : comm_(comm), eng_(eng), offset_(offset), segs_(comm), control_(comm), aborts_(comm),
        pool_(std::make_unique<WorkerPool>(eng, threads, offset, aborts_)) {}
  ~ThreadedEngine() {
    // On an error path workers may still be inside tasks that never return; joining them would
    // hang the rank before run() can end the job with MPI_Abort. Leak the pool instead.
    if (order_.empty()) return;
    (void)pool_.release();
    for (auto& j : order_) (void)j.release();
  }

  int serve() {
    PayloadThread payloads;  // pulls run on this thread (after drain), which sends their payloads
    TaskInbox inbox(comm_);
    Backoff b(kEngineBackoff);
    bool slept = false;
    for (unsigned loops = 0;; ++loops) {
      if (stream_) stream_->poll();  // before send_finished: a task's stream precedes its result
      bool moved = send_finished();
      // Control messages are for the isolated tasks running when they are read (one read while
      // none runs is dropped): look after every sleep and every 16th busy loop.
      if (slept || (loops & 15) == 0) control_.poll();
      slept = false;
      if (!order_.empty()) aborts_.poll();  // tasks wait on workers: an abort may reach them
      std::span<const char> msg;
      if (inbox.poll(msg)) {
        moved = true;
        if (is_call(msg)) {
          // A signal sent before this task is not for it: read those first.
          if (is_isolated(msg)) control_.poll();
          start(msg);
        } else {
          drain();
          ExecResult res = execute_task(eng_, msg.data(), msg.size(), segs_, out_, offset_);
          if (res.stop) return res.stop_code;
          send(out_);
        }
      }
      if (moved) {
        b.reset();
      } else if (!b.spinning()) {
        slept = true;
        if (order_.empty())
          b.sleep();
        else  // a finishing task wakes us at once; a new message is found at the next poll
          b.sleep_with([&](std::int64_t ns) { pool_->wait_finished(seen_, ns); });
      }
    }
  }

 private:
  // A call that may run on a worker. A collective function's call is not one: it calls MPI (on
  // engine_comm), which only this thread may do, so it runs here after the tasks before it.
  static bool is_call(std::span<const char> msg) {
    if (msg.size() < sizeof(TaskHeader)) return false;
    TaskHeader h;
    std::memcpy(&h, msg.data(), sizeof h);
    if (h.kind != Kind::call || (h.run & kRunTeam) != 0) return false;  // a team member: MPI too
    const FunctionEntry* fe = find_by_id(h.fn_id);
    return !(fe && fe->collective);
  }

  static bool is_isolated(std::span<const char> msg) {
    TaskHeader h;
    std::memcpy(&h, msg.data(), sizeof h);  // is_call checked the size
    return (h.run & kRunIsolated) != 0;
  }

  void start(std::span<const char> msg) {
    std::unique_ptr<Job> j;
    if (free_.empty()) {
      j = std::make_unique<Job>();
    } else {
      j = std::move(free_.back());
      free_.pop_back();
    }
    j->msg.clear();
    j->msg.append(msg.data(), msg.size());
    j->done.store(false, std::memory_order_relaxed);
    pool_->submit(j.get());
    order_.push_back(std::move(j));
  }

  void send(const Bytes& out) {
    send_message(comm_, 0, kTagResult, kTagBigResult, {out.data(), out.size()}, kResultInboxBytes);
    send_pending_payload(comm_);  // a pull_into's value follows its result (this thread's only)
  }

  // Sends the results at the front that are done, in task order.
  bool send_finished() {
    bool any = false;
    while (!order_.empty() && order_.front()->done.load(std::memory_order_acquire)) {
      send(order_.front()->out);
      free_.push_back(std::move(order_.front()));
      order_.pop_front();
      any = true;
    }
    return any;
  }

  // Every task before a namespace operation finishes and is answered first.
  void drain() {
    while (!order_.empty()) {
      if (stream_) stream_->poll();
      if (!send_finished()) pool_->wait_finished(seen_, 1'000'000);
    }
  }

  MPI_Comm comm_;
  Engine& eng_;
  std::int64_t offset_;
  MpiSegments segs_;
  ControlInbox control_;
  EngineAborts aborts_;  // before the pool: its workers use it
  std::unique_ptr<EngineStreamer> stream_ =
      settings().stream_output ? std::make_unique<EngineStreamer>(comm_) : nullptr;
  std::deque<std::unique_ptr<Job>> order_;  // tasks handed to workers, in arrival order
  std::vector<std::unique_ptr<Job>> free_;  // finished jobs, reused with their buffers
  std::unique_ptr<WorkerPool> pool_;        // after the jobs: joined before they go
  Bytes out_;
  std::uint64_t seen_ = 0;
};

}  // namespace

int serve_threaded(MPI_Comm comm, Engine& eng, std::int64_t clock_offset_ns, int threads) {
  ThreadedEngine te(comm, eng, clock_offset_ns, threads);
  return te.serve();
}

}  // namespace mpiply::detail
