// Client::send_signal: rank 0's side. Engines on other ranks get a control message (read while
// their isolated tasks run: engine_control.hpp); rank 0's own engine (one rank, or
// client_runs_tasks) is signalled here, without the client lock, which an inline task holds
// while it runs.
#include <mpiply/client.hpp>

#include <signal.h>

#include <algorithm>

#include <fmt/format.h>

#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
#include "support/mpi_check.hpp"
#include "isolation/worker_process.hpp"

namespace mpiply {

void Client::send_signal(int signum) const { send_signal(signum, ids()); }

void Client::send_signal(int signum, const std::vector<int>& targets) const {
  if (signum <= 0 || signum >= NSIG)
    throw UsageError(fmt::format("send_signal: {} is not a signal number; give one from 1 to {} "
                                 "(e.g. SIGINT, SIGTERM, SIGKILL)",
                                 signum, NSIG - 1));
  std::vector<int> ranks;
  bool here = false;
  for (int id : targets) {
    int e = check_id(id);
    if (core_->inline_mode() || e == core_->local_id())
      here = true;
    else
      ranks.push_back(core_->engine_info(e).rank);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  if (here) detail::signal_running_tasks(signum);
  if (ranks.empty()) return;
  detail::ControlMessage m{};
  m.kind = detail::ControlKind::signal;
  m.value = signum;
  std::lock_guard lk(core_->mu);  // rank 0's MPI calls are serialised by the client lock
  for (int r : ranks)
    detail::mpi_check(MPI_Send(&m, sizeof m, MPI_BYTE, r, detail::kTagControl, core_->comm()),
                      "MPI_Send");
}

}  // namespace mpiply
