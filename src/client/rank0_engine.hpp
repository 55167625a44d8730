#pragma once
// The engine rank 0 runs itself, without MPI: the inline engine when the job has one rank (a
// task runs inside its send, and its result is handled before the send returns), or rank 0's
// engine slot with client_runs_tasks (LocalEngine's worker thread, whose results are polled as
// an engine rank's are). At most one of them exists. EngineLinks owns it and sends it the tasks
// of that engine id; lock held throughout.
#include <memory>
#include <span>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/engine.hpp>

#include "client/engine_roster.hpp"
#include "engine/local_engine.hpp"
#include "isolation/isolation.hpp"

namespace mpiply::detail {

class ResultHandler;

class Rank0Engine {
 public:
  // The references outlive it (ClientCore owns them).
  Rank0Engine(const EngineRoster& roster, ResultHandler& results);
  Rank0Engine(const Rank0Engine&) = delete;
  Rank0Engine& operator=(const Rank0Engine&) = delete;

  // Runs engine e's task here (inline: its result is handled before this returns) or queues it
  // on the engine slot (its result comes with a later poll). e is rank 0's own engine id.
  void submit_locked(int e, std::span<const char> msg, const std::vector<Segment>& segs);
  // Hands the engine slot's finished results, in task order, to the ResultHandler; how many.
  // Inline: every progress poll asks, and most jobs have no slot.
  int poll_locked() { return slot_ ? poll_slot_locked() : 0; }
  // Stops the engine slot's worker; call once every task sent to it is answered.
  void close();

 private:
  int poll_slot_locked();

  const EngineRoster& roster_;
  ResultHandler& results_;
  std::unique_ptr<Engine> inline_;     // with one rank
  std::unique_ptr<LocalEngine> slot_;  // with client_runs_tasks; gone after close
  Bytes inline_out_;                   // the inline engine's result, reused task after task
  Isolation inline_iso_;  // the inline engine's worker process (isolated tasks, one rank)
};

}  // namespace mpiply::detail
