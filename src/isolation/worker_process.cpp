// The engine's side of a worker process (worker_process.hpp). A fork and wait costs far more than
// a task message (docs/isolation.md), hence one worker reused for many tasks.
#include "isolation/worker_process.hpp"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

#include "isolation/worker_main.hpp"

namespace mpiply::detail {

namespace {

// Forks; the child serves the ring and never returns from here.
pid_t fork_worker(Engine& eng, ShmRing& ring, std::int64_t clock_offset_ns) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    throw Error(fmt::format("mpiply: engine {} could not fork its worker process: {}", eng.id(),
                            std::strerror(errno)));
  if (pid == 0) worker_main(eng, ring, clock_offset_ns, parent);
  return pid;
}

}  // namespace

WorkerProcess::WorkerProcess(Engine& eng, std::int64_t clock_offset_ns, unsigned slots)
    : eng_(&eng),
      generation_(eng.store().generation()),
      ring_(slots),
      end_(ring_),
      child_(fork_worker(eng, ring_, clock_offset_ns)) {}

WorkerProcess::~WorkerProcess() {
  if (!child_.dead()) kill_now();
}

bool WorkerProcess::serves(Engine& eng) const {
  return !child_.dead() && eng_ == &eng && generation_ == eng.store().generation();
}

void WorkerProcess::set_busy(bool busy) noexcept {
  if (!child_.dead()) signals_.set(busy ? child_.pid() : 0);
}

void WorkerProcess::wait(std::int64_t ns) {
  int pidfd = child_.pidfd();
  if (pidfd < 0) ns = std::min<std::int64_t>(ns, 2'000'000);  // no pidfd: look for a death often
  if (!end_.begin_sleep()) return;
  pollfd fds[2] = {{ring_.wake_fd(), POLLIN, 0}, {pidfd, POLLIN, 0}};
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  ppoll(fds, pidfd >= 0 ? 2 : 1, &ts, nullptr);
  end_.end_sleep();
}

void WorkerProcess::reap() {
  signals_.clear();
  child_.reap();
}

void WorkerProcess::kill_now() {
  signals_.clear();
  child_.kill_and_reap();
}

}  // namespace mpiply::detail
