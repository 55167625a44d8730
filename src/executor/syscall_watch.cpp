// Syscall user dispatch as a "did the task make a system call" flag (syscall_watch.hpp).
#include "executor/syscall_watch.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <ucontext.h>

#include <mutex>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_ON
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

namespace mpiply::detail {

namespace {

constexpr char kAllow = 0;  // SYSCALL_DISPATCH_FILTER_ALLOW
constexpr char kBlock = 1;  // SYSCALL_DISPATCH_FILTER_BLOCK
constexpr unsigned kRest = 64;

thread_local volatile char t_selector = kAllow;
thread_local volatile bool t_hit = false;
thread_local int t_state = 0;  // 0 not tried, 1 on, -1 unavailable
thread_local unsigned t_rest = 0;

struct sigaction g_prev {};
std::mutex g_watch_mu;
bool g_installed = false;  // the handler is in place in this process

#if defined(__x86_64__)
// The call was rolled back (rax holds its number again) and rip points past the 2-byte syscall
// instruction: allow, step back, and it runs again on return. Other SIGSYS go to whoever had it.
void on_sigsys(int sig, siginfo_t* si, void* ctx) {
  if (si->si_code == SYS_USER_DISPATCH) {
    t_selector = kAllow;
    t_hit = true;
    auto* uc = static_cast<ucontext_t*>(ctx);
    uc->uc_mcontext.gregs[REG_RIP] -= 2;
    uc->uc_mcontext.gregs[REG_RAX] = si->si_syscall;
    return;
  }
  if (g_prev.sa_flags & SA_SIGINFO) {
    if (g_prev.sa_sigaction) g_prev.sa_sigaction(sig, si, ctx);
  } else if (g_prev.sa_handler != SIG_IGN && g_prev.sa_handler != SIG_DFL) {
    g_prev.sa_handler(sig);
  } else if (g_prev.sa_handler == SIG_DFL) {
    signal(SIGSYS, SIG_DFL);
    raise(SIGSYS);
  }
}
#endif

bool enable() {
#if defined(__x86_64__)
  {
    std::lock_guard lk(g_watch_mu);
    if (!g_installed) {
      struct sigaction sa {};
      sa.sa_sigaction = on_sigsys;
      sa.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset(&sa.sa_mask);
      if (sigaction(SIGSYS, &sa, &g_prev) != 0) return false;
      g_installed = true;
    }
  }
  t_selector = kAllow;
  return prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0,
               const_cast<char*>(&t_selector)) == 0;
#else
  return false;
#endif
}

}  // namespace

bool syscall_watch_arm() noexcept {
  if (t_state == 0) t_state = enable() ? 1 : -1;
  if (t_state < 0) return false;
  if (t_rest > 0) {
    --t_rest;
    return false;
  }
  t_hit = false;
  t_selector = kBlock;
  return true;
}

bool syscall_watch_disarm() noexcept {
  t_selector = kAllow;
  bool hit = t_hit;
  if (hit) t_rest = kRest;
  return hit;
}

void syscall_watch_in_child() noexcept {
  // A worker resets every signal handler after this: install ours again at its first task.
  g_installed = false;
  t_state = 0;
  t_rest = 0;
  t_selector = kAllow;
}

}  // namespace mpiply::detail
