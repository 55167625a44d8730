// Client::send_signal: rank 0's side. Engines on other ranks get a control message (read while
// their isolated tasks run: engine_control.hpp); rank 0's own engine (one rank, or
// client_runs_tasks) is signalled here, without the client lock, which an inline task holds
// while it runs.
#include <mpiply/client.hpp>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
#include "support/mpi_check.hpp"
#include "isolation/signal_list_entry.hpp"

namespace mpiply {

namespace {

// "SIGINT", "INT", "sigint" -> SIGINT, through glibc's own abbreviations (sigabbrev_np), so every
// signal this system has is known by name. 0 when the name is none of them.
int signal_by_name(std::string_view name) {
  std::string up;
  for (char ch : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string_view bare = up;
  if (bare.size() > 3 && bare.substr(0, 3) == "SIG") bare.remove_prefix(3);
  for (int s = 1; s < NSIG; ++s)
    if (const char* abbrev = sigabbrev_np(s); abbrev && bare == abbrev) return s;
  return 0;
}

std::string signal_names() {
  std::string out;
  for (int s = 1; s < SIGRTMIN; ++s)
    if (const char* abbrev = sigabbrev_np(s)) out += fmt::format("{}SIG{}", out.empty() ? "" : ", ", abbrev);
  return out;
}

int signal_arg(std::string_view name) {
  int s = signal_by_name(name);
  if (s == 0)
    throw UsageError(fmt::format("send_signal: '{}' is not a signal name; give one of {} (with "
                                 "or without the SIG prefix), or a signal number",
                                 name, signal_names()));
  return s;
}

}  // namespace

void Client::send_signal(int signum) const { send_signal(signum, ids()); }

void Client::send_signal(std::string_view name) const { send_signal(signal_arg(name), ids()); }

void Client::send_signal(std::string_view name, const std::vector<int>& targets) const {
  send_signal(signal_arg(name), targets);
}

void Client::send_signal(int signum, const std::vector<int>& targets) const {
  if (signum <= 0 || signum >= NSIG)
    throw UsageError(fmt::format("send_signal: {} is not a signal number; give one from 1 to {} "
                                 "(e.g. SIGINT, SIGTERM, SIGKILL)",
                                 signum, NSIG - 1));
  std::vector<int> ranks;
  bool here = false;
  for (int id : targets) {
    if (core_->rank0().engines.inline_mode()) {
      // One rank: the task runs inline with the client lock held and a signal is what stops it,
      // so this must not wait for the lock (check_id takes it to ask about shut-down engines).
      if (id != 0 && id != -1)
        throw UsageError(fmt::format("send_signal: engine {} does not exist: with one rank the "
                                     "only engine is 0 (rank 0 runs tasks inline)",
                                     id));
      here = true;
      continue;
    }
    int e = check_id(id);
    if (e == core_->rank0().engines.local_id())
      here = true;
    else
      ranks.push_back(core_->rank0().engines.engine_info(e).rank);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  if (here) detail::signal_running_tasks(signum);
  if (ranks.empty()) return;
  detail::ControlMessage m{};
  m.kind = detail::ControlKind::signal;
  m.value = signum;
  std::lock_guard lk(core_->rank0().mu);  // rank 0's MPI calls are serialised by the client lock
  for (int r : ranks)
    detail::mpi_check(MPI_Send(&m, sizeof m, MPI_BYTE, r, detail::kTagControl,
                               core_->rank0().engines.comm()),
                      "MPI_Send");
}

}  // namespace mpiply
