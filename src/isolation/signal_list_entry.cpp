// The list of running workers that send_signal reaches (signal_list_entry.hpp). A fixed array:
// entries are claimed when a worker is forked, never on a task's path, and signalling walks it
// without allocating.
#include "isolation/signal_list_entry.hpp"

#include <signal.h>

#include <atomic>
#include <mutex>

namespace mpiply::detail {

namespace {

constexpr int kListEntries = 1100;
std::atomic<pid_t> g_running[kListEntries];
bool g_claimed[kListEntries];
std::mutex g_list_mu;

int claim_entry() {
  std::lock_guard lk(g_list_mu);
  for (int i = 0; i < kListEntries; ++i)
    if (!g_claimed[i]) {
      g_claimed[i] = true;
      g_running[i].store(0);
      return i;
    }
  return -1;
}

}  // namespace

SignalListEntry::SignalListEntry() : index_(claim_entry()) {}

SignalListEntry::~SignalListEntry() {
  if (index_ < 0) return;
  std::lock_guard lk(g_list_mu);
  g_running[index_].store(0);
  g_claimed[index_] = false;
}

void SignalListEntry::set(pid_t pid) noexcept {
  if (index_ >= 0) g_running[index_].store(pid, std::memory_order_relaxed);
}

void SignalListEntry::clear() {
  if (index_ < 0) return;
  std::lock_guard lk(g_list_mu);
  g_running[index_].store(0);
}

int signal_running_tasks(int sig) {
  std::lock_guard lk(g_list_mu);
  int n = 0;
  for (int i = 0; i < kListEntries; ++i) {
    if (!g_claimed[i]) continue;
    pid_t p = g_running[i].load();
    if (p > 0 && kill(p, sig) == 0) ++n;
  }
  return n;
}

}  // namespace mpiply::detail
