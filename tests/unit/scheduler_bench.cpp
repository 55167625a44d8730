// Micro-benchmark of rank 0's scheduler on its own, without MPI (not a test: it prints figures
// and judges nothing). ENGINES engines, each holding 8 cores, 4 GPUs, 64 GiB and 2 licences, run
// a stream of TASKS one-task submissions (as a loop of apply_async does), at most hwm = 4
// outstanding per engine; the oldest placed task finishes whenever the engines are full. The
// same stream runs twice in one process:
//   - with requests: cycling through 1 core, 4 cores, 1 GPU, 8 GiB, 1 licence, 2 cores + 1 GPU
//     (placed by ResourcePool's best fit, resources held until the task ends);
//   - without: the same flags minus the requests (a priority, so the tasks still go through
//     admit and dispatch rather than the plain fast path).
// The figure is wall time per task for admit + dispatch + finish, so the difference is what the
// resource requests cost per placement (docs/resources.md).
//
//   build/tests/unit/scheduler_bench [tasks] [engines]     (defaults: 200000, 64)
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include <mpiply/resources.hpp>

#include "scheduling/scheduler.hpp"

using namespace mpiply;
using namespace mpiply::detail;

namespace {

double wall() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Stands in for rank 0's ClientCore: a placed task runs until finish_oldest ends it.
class Engines : public SchedulerSink {
 public:
  Engines(std::size_t n, unsigned hwm, bool with_resources)
      : sched_(*this, Scheme::leastload), load_(n, 0) {
    sched_.reset_engines(n, hwm);
    if (with_resources)
      for (std::size_t e = 0; e < n; ++e)
        sched_.set_resources(static_cast<int>(e),
                             EngineResources{.cores = 8,
                                             .gpus = {"0", "1", "2", "3"},
                                             .memory = 64ull << 30,
                                             .named = {{"license", 2}}});
  }

  void place(const std::shared_ptr<TaskSource>&, MsgId id, std::uint32_t,
             const Placement& where) override {
    int e = where.engines.front();
    running_.push_back({id, e});
    outcome_at(id) = {TaskStatus::sent, e};
    sched_.set_load(e, ++load_[static_cast<std::size_t>(e)]);
  }
  void fail(MsgId id, ErrorKind, const std::string& why) override {
    std::fprintf(stderr, "scheduler_bench: task %llu failed: %s\n",
                 static_cast<unsigned long long>(id), why.c_str());
    std::exit(1);
  }
  TaskOutcome outcome(MsgId id) const override {
    return id < outcomes_.size() ? outcomes_[id] : TaskOutcome{};
  }

  void submit(MsgId id, const TaskFlags& flags, const ResourceRequest& req, std::int64_t now) {
    outcome_at(id) = {};
    sched_.admit({.first = id, .ntasks = 1, .engines = {}, .flags = flags, .resources = req},
                 now);
    sched_.dispatch(now);
  }
  bool finish_oldest(std::int64_t now) {
    if (running_.empty()) return false;
    auto [id, e] = running_.front();
    running_.pop_front();
    sched_.set_load(e, --load_[static_cast<std::size_t>(e)]);
    outcome_at(id) = {TaskStatus::ok, e};
    sched_.on_finished(id, outcome_at(id));
    sched_.dispatch(now);
    return true;
  }
  std::size_t running() const { return running_.size(); }

 private:
  TaskOutcome& outcome_at(MsgId id) {
    if (id >= outcomes_.size()) outcomes_.resize(id + 1);
    return outcomes_[id];
  }

  Scheduler sched_;
  std::vector<unsigned> load_;
  std::deque<std::pair<MsgId, int>> running_;
  std::vector<TaskOutcome> outcomes_;
};

std::vector<ResourceRequest> request_mix() {
  std::vector<ResourceRequest> mix(6);
  mix[0].cores = 1;
  mix[1].cores = 4;
  mix[2].gpus = 1;
  mix[3].memory_bytes = 8ull << 30;
  mix[4].named = {{"license", 1}};
  mix[5].cores = 2;
  mix[5].gpus = 1;
  return mix;
}

// Nanoseconds per task for the stream; every task is placed and finished.
double run_stream(std::size_t engines, long tasks, bool with_resources) {
  constexpr unsigned kHwm = 4;
  Engines eng(engines, kHwm, with_resources);
  const std::vector<ResourceRequest> mix = request_mix();
  const ResourceRequest none;
  TaskFlags flags;
  flags.priority = 0;  // a flag: admitted and dispatched like the requests, never the fast path
  const std::size_t cap = engines * kHwm;
  std::int64_t now = 1'000'000'000;
  long finished = 0;
  double t0 = wall();
  for (long i = 0; i < tasks; ++i) {
    const ResourceRequest& req = with_resources ? mix[std::size_t(i) % mix.size()] : none;
    eng.submit(MsgId(i + 1), flags, req, now++);
    while (eng.running() >= cap && eng.finish_oldest(now++)) ++finished;
  }
  while (eng.finish_oldest(now++)) ++finished;
  double t = wall() - t0;
  if (finished != tasks) {
    std::fprintf(stderr, "scheduler_bench: %ld of %ld tasks finished\n", finished, tasks);
    std::exit(1);
  }
  return t * 1e9 / double(tasks);
}

}  // namespace

int main(int argc, char** argv) {
  long tasks = argc > 1 ? std::atol(argv[1]) : 200'000;
  long engines = argc > 2 ? std::atol(argv[2]) : 64;
  if (tasks < 1 || engines < 1) {
    std::fprintf(stderr, "usage: scheduler_bench [tasks >= 1] [engines >= 1]\n");
    return 2;
  }
  // Alternate the two streams and keep each one's best of three, so both see the same machine.
  double plain = 1e300, resources = 1e300;
  for (int round = 0; round < 3; ++round) {
    plain = std::min(plain, run_stream(std::size_t(engines), tasks, false));
    resources = std::min(resources, run_stream(std::size_t(engines), tasks, true));
  }
  std::printf("scheduler_bench: %ld one-task submissions on %ld engines (hwm 4), best of 3\n",
              tasks, engines);
  std::printf("  without requests: %.0f ns per task (admit + dispatch + finish)\n", plain);
  std::printf("  with requests:    %.0f ns per task (cores, GPUs, memory, a licence; best fit)\n",
              resources);
  std::printf("  ratio with / without: %.2f\n", resources / plain);
  return 0;
}
