// The crash line. Everything the signal handler touches is prepared beforehand: the engine part
// of the line is formatted when the reporter is installed, and a task start stores only a
// pointer and a number. The handler then uses nothing but plain stores, loops, gettid and
// write(2), all async-signal-safe.
//
// An engine with worker threads runs several tasks at once, so each thread that runs tasks owns
// a slot (its kernel thread id, function, msg id). The handler finds the crashing thread's slot by
// its thread id rather than through a thread_local, whose first touch in a signal handler may
// allocate.
#include "executor/crash_report.hpp"
#include "executor/output_capture.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <sys/syscall.h>
#include <unistd.h>

namespace mpiply::detail {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr const char* kSignalNames[] = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"};
constexpr int kNumSignals = 5;

struct sigaction g_previous[kNumSignals];
char g_prefix[512];  // "mpiply: engine 0 (rank 1 on host, pid 42) died of "
std::size_t g_prefix_len = 0;
std::atomic<bool> g_reported{false};

// One slot per thread that has run a task: engine workers (at most 1024), the engine's own
// thread and rank 0's inline engine. A thread gives its slot back when it ends.
struct TaskSlot {
  std::atomic<long> tid{0};  // 0: free
  std::atomic<const char*> function{nullptr};
  std::atomic<std::uint64_t> msg_id{0};
};
constexpr int kSlots = 1100;
TaskSlot g_slots[kSlots];

long current_tid() noexcept { return syscall(SYS_gettid); }

// Gives the slot back when its thread ends.
struct SlotOwner {
  TaskSlot* slot = nullptr;
  ~SlotOwner() {
    if (!slot) return;
    slot->function.store(nullptr);
    slot->tid.store(0);
  }
};

// A plain pointer, so the per-task path reads it without a thread_local init guard.
thread_local TaskSlot* t_slot = nullptr;

// Claims this thread's slot on its first task; nullptr if all are taken (the crash line then
// says less, nothing else changes).
[[gnu::noinline]] TaskSlot* claim_slot() noexcept {
  thread_local SlotOwner owner;
  long tid = current_tid();
  for (auto& s : g_slots) {
    long free = 0;
    if (s.tid.compare_exchange_strong(free, tid)) {
      owner.slot = t_slot = &s;
      break;
    }
  }
  return t_slot;
}

TaskSlot* my_slot() noexcept {
  TaskSlot* s = t_slot;
  return s ? s : claim_slot();
}

// A stack for the handler, so a task that overflows its own stack is still reported.
alignas(16) char g_alt_stack[64 * 1024];
stack_t g_previous_stack;

struct Line {
  char buf[1024];
  std::size_t n = 0;
  void add(const char* s, std::size_t len) {
    for (std::size_t i = 0; i < len && n < sizeof buf; ++i) buf[n++] = s[i];
  }
  void add(const char* s) {  // a plain loop: strlen is not on every list of safe functions
    while (*s && n < sizeof buf) buf[n++] = *s++;
  }
  void add(std::uint64_t v) {
    char digits[20];
    int k = 0;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0 && n < sizeof buf) buf[n++] = digits[--k];
  }
};

void on_fatal_signal(int sig, siginfo_t* info, void* ctx) {
  int which = 0;
  while (which < kNumSignals && kSignals[which] != sig) ++which;
  if (which == kNumSignals) return;
  if (!g_reported.exchange(true)) {
    Line l;
    l.add(g_prefix, g_prefix_len);
    l.add(kSignalNames[which]);
    long tid = current_tid();
    const char* fn = nullptr;
    std::uint64_t msg = 0;
    for (auto& slot : g_slots) {
      if (slot.tid.load(std::memory_order_relaxed) != tid) continue;
      fn = slot.function.load(std::memory_order_relaxed);
      msg = slot.msg_id.load(std::memory_order_relaxed);
      break;
    }
    if (fn) {
      l.add(" while running '");
      l.add(fn);
      l.add("' (msg id ");
      l.add(msg);
      l.add(")\n");
    } else {
      l.add(" outside any task\n");
    }
    restore_output_for_crash();  // a captured task's stderr is a memory file (output_capture.hpp)
    ssize_t rc = write(STDERR_FILENO, l.buf, l.n);
    (void)rc;
  }
  // Hand over to whoever was there before: Open MPI prints its backtrace and re-raises.
  const struct sigaction& prev = g_previous[which];
  sigaction(sig, &prev, nullptr);
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
    prev.sa_sigaction(sig, info, ctx);
  } else if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler != SIG_DFL &&
             prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  }
  // It returned (or there was none): die of the signal the default way. The signal is blocked
  // while this handler runs, so it is delivered as soon as the handler returns.
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

CrashReporter::CrashReporter(int engine_id, int rank, const std::string& hostname) {
  int n = std::snprintf(g_prefix, sizeof g_prefix,
                        "mpiply: engine %d (rank %d on %s, pid %ld) died of ", engine_id, rank,
                        hostname.c_str(), static_cast<long>(getpid()));
  g_prefix_len = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof g_prefix - 1);
  g_reported.store(false);

  stack_t ss{};
  ss.ss_sp = g_alt_stack;
  ss.ss_size = sizeof g_alt_stack;
  sigaltstack(&ss, &g_previous_stack);

  struct sigaction sa {};
  sa.sa_sigaction = &on_fatal_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < kNumSignals; ++i) sigaction(kSignals[i], &sa, &g_previous[i]);
}

CrashReporter::~CrashReporter() {
  for (int i = 0; i < kNumSignals; ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
  sigaltstack(&g_previous_stack, nullptr);
}

TaskNote::TaskNote(const char* function, std::uint64_t msg_id) noexcept : slot_(my_slot()) {
  if (!slot_) return;
  auto* s = static_cast<TaskSlot*>(slot_);
  s->msg_id.store(msg_id, std::memory_order_relaxed);
  // The handler runs on this thread: a compiler fence keeps the two stores in this order.
  std::atomic_signal_fence(std::memory_order_release);
  s->function.store(function, std::memory_order_relaxed);
}

TaskNote::~TaskNote() {
  if (slot_) static_cast<TaskSlot*>(slot_)->function.store(nullptr, std::memory_order_relaxed);
}

}  // namespace mpiply::detail
