// The signal side of a graceful drain: handlers that only record and wake, the watchdog thread
// that ends the process without MPI if the orderly path does not, and the drain actions. Why a
// watchdog: after SIGTERM mpirun tears the job down and MPI calls may never return, and a task
// may ignore the drain altogether; neither may keep a rank alive past its deadline.
#include "runtime/drain.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <mpiply/run.hpp>

#include "support/clock.hpp"

namespace mpiply::detail {

namespace {

constexpr int kSignals[] = {SIGUSR1, SIGTERM, SIGINT};

// Touched by the handler: lock-free atomics only (async-signal-safe).
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
std::atomic<std::int64_t> g_signal_ns{0};
std::atomic<int> g_wake_fd{-1};
std::atomic<int> g_actions{0};  // 0 not run, 1 running, 2 done
std::atomic<bool> g_hurry{false};
std::atomic<int> g_rank{-1};
std::atomic<pid_t> g_owner{0};  // the process that installed the handlers
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<pid_t>::is_always_lock_free &&
              std::atomic<std::int64_t>::is_always_lock_free &&
              std::atomic<bool>::is_always_lock_free);

std::int64_t g_grace_ms = 30'000;  // set before the handlers are installed

// Drain signals this soon after the first are the same signal delivered twice (on_drain_signal).
constexpr std::int64_t kRepeatWindowNs = 500'000'000;

std::mutex g_drain_mu;  // guards the two below (never taken by the handler)
std::vector<std::function<void()>> g_actions_list;
std::function<std::string()> g_summary;
std::atomic<bool> g_summary_printed{false};

void say(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

extern "C" void on_drain_signal(int sig) {
  int saved = errno;
  if (::getpid() != g_owner.load()) {
    // A child forked by a task or an isolated worker: the drain is its parent's business, and
    // the pipe it inherited would wake the parent's watchdog. Act as if no handler were there.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, nullptr);
    ::raise(sig);
    errno = saved;
    return;
  }
  // One signal often arrives twice: sent to a process group, or by Slurm to every process of a
  // step, it reaches the rank directly and again through mpirun's forwarding (Ctrl-C: SIGINT
  // from the terminal, SIGTERM from mpirun). A repeat this soon after the first is that same
  // event, not a person asking for an immediate exit.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::int64_t now_ns = std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  if (g_count.load() > 0) {
    std::int64_t first = g_signal_ns.load();
    if (first == 0 || now_ns - first < kRepeatWindowNs) {  // 0: the first is being recorded
      errno = saved;
      return;
    }
  }
  if (g_count.fetch_add(1) == 0) {
    g_signal_ns.store(now_ns);  // CLOCK_MONOTONIC: steady_clock's clock on Linux
    g_signal.store(sig);
    char c = 's';
    if (int fd = g_wake_fd.load(); fd >= 0) (void)!::write(fd, &c, 1);
  } else if (g_actions.load() == 1) {
    // Never cut a flush of the task database short: exit right after it.
    g_hurry.store(true);
    if (g_rank.load() == 0)
      say("mpiply: another signal: exiting as soon as the drain actions end\n");
  } else {
    if (g_rank.load() == 0) say("mpiply: a second signal: exiting now with code 84\n");
    ::_exit(kExitInterrupted);
  }
  errno = saved;
}

struct Installed {
  bool on = false;
  struct sigaction old[3];
  int pipe_rd = -1, pipe_wr = -1;
  std::thread watchdog;
};
Installed g_inst;

// How long past the drain deadline the orderly path may take before the watchdog ends the
// process. Rank 0 runs the orderly path; an engine waits longer, so that rank 0 (which flushes
// the database and prints the summary) ends first. After SIGTERM everything fits in mpirun's
// one second.
std::int64_t margin_ms(int rank, int sig) {
  bool term = sig != SIGUSR1;
  if (rank == 0) return term ? 300 : 2'000;
  return term ? 1'500 : 10'000;
}

void watch(int rd) {
  for (;;) {
    char c = 0;
    ssize_t n = ::read(rd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == 'q') return;
    if (c == 's' && drain_requested()) break;
  }
  int sig = g_signal.load();
  int rank = g_rank.load();
  std::int64_t grace = drain_deadline_ns() - g_signal_ns.load();
  if (rank == 0) {
    std::string why = sig == SIGUSR1
                          ? "the drain grace: MPIPLY_DRAIN_GRACE or RunOptions::drain_grace"
                          : fmt::format("after {} at most {:g} s: the launcher kills the job soon",
                                        drain_signal_name(sig), kTermGraceMs / 1e3);
    std::fprintf(stderr,
                 "mpiply: %s: draining: no new task starts; tasks running now have %.3g s (%s) "
                 "to finish, then every rank exits with code %d (a second signal exits at "
                 "once)\n",
                 drain_signal_name(sig), grace / 1e9, why.c_str(), kExitInterrupted);
    std::fflush(stderr);
  }
  std::int64_t hard = drain_deadline_ns() + margin_ms(rank, sig) * 1'000'000;
  for (std::int64_t t; (t = steady_ns()) < hard;) {
    std::int64_t left = hard - t;
    timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    nanosleep(&ts, nullptr);
  }
  if (rank == 0) {
    print_drain_summary();
    std::fprintf(stderr,
                 "mpiply: the drain did not end in time (a task ignores it, or MPI no longer "
                 "answers): ending rank 0 with code %d\n",
                 kExitInterrupted);
  }
  exit_interrupted();
}

}  // namespace

int drain_signal() noexcept { return g_signal.load(std::memory_order_relaxed); }

std::int64_t drain_deadline_ns() noexcept {
  int sig = g_signal.load();
  std::int64_t grace = sig == SIGUSR1 ? g_grace_ms : std::min(g_grace_ms, kTermGraceMs);
  return g_signal_ns.load() + grace * 1'000'000;
}

const char* drain_signal_name(int sig) noexcept {
  switch (sig) {
    case SIGUSR1: return "SIGUSR1";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "a signal";
  }
}

void on_drain(std::function<void()> action) {
  std::lock_guard lk(g_drain_mu);
  g_actions_list.push_back(std::move(action));
}

void run_drain_actions() noexcept {
  int expected = 0;
  if (!g_actions.compare_exchange_strong(expected, 1)) {
    while (g_actions.load() != 2) {
      timespec ts{0, 1'000'000};
      nanosleep(&ts, nullptr);
    }
    return;
  }
  std::vector<std::function<void()>> actions;
  {
    std::lock_guard lk(g_drain_mu);
    actions = g_actions_list;
  }
  for (auto& a : actions) {
    try {
      a();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mpiply: a drain action failed: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "mpiply: a drain action failed (not a std::exception)\n");
    }
  }
  g_actions.store(2);
  if (g_hurry.load()) {
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(kExitInterrupted);
  }
}

void set_drain_summary(std::function<std::string()> make) {
  std::lock_guard lk(g_drain_mu);
  g_summary = std::move(make);
}

void print_drain_summary() noexcept {
  if (g_summary_printed.exchange(true)) return;
  std::function<std::string()> make;
  {
    std::lock_guard lk(g_drain_mu);
    make = g_summary;
  }
  std::string line;
  try {
    line = make ? make() : std::string();
  } catch (...) {
  }
  if (line.empty())
    line = fmt::format("mpiply: interrupted by {}; every rank exits with code {} "
                       "(kExitInterrupted): rerun the job to resume it",
                       drain_signal_name(drain_signal()), kExitInterrupted);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

[[noreturn]] void exit_interrupted() noexcept {
  run_drain_actions();
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(kExitInterrupted);
}

DrainGuard::DrainGuard(int rank, std::int64_t grace_ms) {
  if (g_inst.on || drain_requested()) return;  // nested run, or a process already draining
  g_rank.store(rank);
  g_owner.store(::getpid());
  g_grace_ms = grace_ms;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // no drain then: signals keep their defaults
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);  // the handler must never block
  g_inst.pipe_rd = fds[0];
  g_inst.pipe_wr = fds[1];
  g_wake_fd.store(fds[1]);
  g_inst.watchdog = std::thread(watch, fds[0]);
  struct sigaction sa {};
  sa.sa_handler = on_drain_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) sigaddset(&sa.sa_mask, s);  // one handler at a time
  sa.sa_flags = SA_RESTART;
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_inst.old[i]);
  g_inst.on = true;
}

DrainGuard::~DrainGuard() {
  if (!g_inst.on) return;
  if (drain_requested()) {
    g_inst.watchdog.detach();  // armed until the process ends
    return;
  }
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &g_inst.old[i], nullptr);
  if (drain_requested()) {  // it came while the handlers were being restored
    g_inst.watchdog.detach();
    return;
  }
  g_wake_fd.store(-1);
  char q = 'q';
  (void)!::write(g_inst.pipe_wr, &q, 1);
  g_inst.watchdog.join();
  ::close(g_inst.pipe_rd);
  ::close(g_inst.pipe_wr);
  g_inst = Installed{};
  std::lock_guard lk(g_drain_mu);
  g_summary = nullptr;
}

}  // namespace mpiply::detail
