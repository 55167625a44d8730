#pragma once
// Rank 0's links to its engines: per engine, the ring of tasks sent and not yet answered and the
// direct tasks waiting for room; the transport that sends a task (a nonblocking send, or to the
// engine rank 0 runs itself: Rank0Engine, owned here), the persistent receives results land in
// (transport.hpp's ResultInbox, no probe) and the abort messages. Lock held throughout.
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/engine_roster.hpp"
#include "client/live_outputs.hpp"
#include "client/rank0_engine.hpp"
#include "engine/engine_abort.hpp"
#include "hub/task_table.hpp"
#include "taskdb/task_db.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

class ResultHandler;

struct InFlight {
  MsgId msg = 0;
  MPI_Request req = MPI_REQUEST_NULL;
  MPI_Request big_req = MPI_REQUEST_NULL;  // the message itself, when an envelope went first
  Envelope env{};
  std::vector<MPI_Request> seg_reqs;
  Bytes scratch;  // reused message buffer of this slot
  Bytes team_msg;  // a team member's message: the task's with its team inserted
  ResumeKey key;  // for the task database's record (db_recorder.cpp); zero when it is off
  std::shared_ptr<TaskSource> src;
};

struct EngineSlot {
  std::vector<InFlight> ring;  // outstanding tasks in send order (engines answer in order)
  unsigned head = 0, count = 0;
  std::deque<std::pair<std::shared_ptr<TaskSource>, std::uint32_t>> direct;
  bool direct_listed = false;  // listed in TaskQueues as having direct tasks to send
};

class EngineLinks {
 public:
  // The references outlive the links (ClientCore owns all of them).
  EngineLinks(const EngineRoster& roster, const TaskTable& table, ResultHandler& results,
              LiveOutputs& live);
  EngineLinks(const EngineLinks&) = delete;
  EngineLinks& operator=(const EngineLinks&) = delete;

  EngineSlot& slot(int e) { return slots_[static_cast<std::size_t>(e)]; }
  std::vector<EngineSlot>& slots() noexcept { return slots_; }
  const std::vector<EngineSlot>& slots() const noexcept { return slots_; }
  // Sends task msg (its segments after it) to engine e, in f's requests; to rank 0's own engine
  // it goes without MPI (the inline engine runs it, and handles its result, before this returns).
  void transmit_locked(int e, InFlight& f, std::span<const char> msg,
                       const std::vector<Segment>& segs);
  // Hands every result that arrived (and live output, when streaming) to the ResultHandler.
  bool poll_results_locked();
  // Whether the task's message (all of the tasks') left rank 0.
  bool sent_locked(MsgId first, std::uint32_t n);
  bool sent_locked(MsgId id);
  // The inbox, for adopting a large result's buffer; null inline and after close.
  ResultInbox* inbox() noexcept { return inbox_.get(); }
  // Names tasks sent to engine rank e + 1 that must not start (engine_abort.hpp).
  void send_aborts(int e, const std::vector<MsgId>& ids) { abort_out_->send(e + 1, ids); }
  // After every task finished: rank 0's engine slot stops, the receives and abort sends complete
  // (neither may outlive the communicator), and every engine rank is sent the stop code.
  void close_and_stop(int code);

 private:
  const EngineRoster& roster_;
  const TaskTable& table_;
  ResultHandler& results_;
  LiveOutputs& live_;
  Rank0Engine rank0_engine_;  // the inline engine, or rank 0's engine slot, or neither
  std::vector<EngineSlot> slots_;
  std::unique_ptr<ResultInbox> inbox_;      // gone after close: it must not outlive the communicator
  std::unique_ptr<AbortOutbox> abort_out_;  // likewise
};

}  // namespace mpiply::detail
