#pragma once
// An engine slot on rank 0 (RunOptions::client_runs_tasks / MPIPLY_CLIENT_RUNS_TASKS=1), so that
// --ntasks=N gives N workers rather than N-1. One worker thread runs the tasks the scheduler
// hands it, through the same encode/execute/decode path as a remote engine, and never calls MPI:
// the scheduler copies each task message (and a push's segments) in, and collects the results
// when it next polls, in task order, as if they had come from an engine rank.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/engine.hpp>

namespace mpiply::detail {

class LocalEngine {
 public:
  LocalEngine(int id, const std::string& hostname);
  ~LocalEngine();  // joins the worker: call only when no task is left on it
  LocalEngine(const LocalEngine&) = delete;
  LocalEngine& operator=(const LocalEngine&) = delete;

  // Queues a task; msg and the segments are copied, so the caller's buffers are free at once.
  void submit(std::span<const char> msg, const std::vector<Segment>& segs);

  // Calls on_result(bytes, size) for each finished task, in the order they were submitted.
  template <class F>
  int poll(F&& on_result) {
    if (finished_.load(std::memory_order_acquire) == 0) return 0;  // the usual case: no lock
    std::deque<std::unique_ptr<Job>> done;
    {
      std::lock_guard lk(mu_);
      done.swap(done_);
      finished_.store(0, std::memory_order_relaxed);
    }
    for (auto& j : done) on_result(j->out.data(), j->out.size());
    return static_cast<int>(done.size());
  }

 private:
  struct Job {
    Bytes msg, out;
    std::vector<Bytes> segs;
  };
  void work();

  Engine eng_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_, done_;
  std::atomic<int> finished_{0};
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mpiply::detail
