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

inline constexpr MsgId kNoLead = ~MsgId(0);

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
  // Bundles (wire/bundle.hpp): the message while it waits for its batch to end; the bundle this
  // task leads (its req sends it); or, for a later task of a bundle, the msg id of its lead.
  std::span<const char> staged;
  Bytes bundle;
  MsgId lead = kNoLead;
};

struct EngineSlot {
  std::vector<InFlight> ring;  // outstanding tasks in send order (engines answer in order)
  unsigned head = 0, count = 0;
  std::deque<std::pair<std::shared_ptr<TaskSource>, std::uint32_t>> direct;
  bool direct_listed = false;  // listed in TaskQueues as having direct tasks to send
  // Tasks waiting for the batch to end: how many, the ring index of the first, their bundle's
  // size, and whether its results may be held (ResultOutbox).
  unsigned staged = 0;
  unsigned staged_first = 0;
  std::size_t staged_bytes = 0;
  bool staged_hold = false;
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
  // During a batch, a small task without segments waits instead and leaves with the engine's
  // other such tasks in one bundle when the batch ends; short_call: a plain call whose
  // submission's tasks have run briefly so far (its result may be held on the engine); window:
  // the tasks e may hold now (a bundle takes at most half of them).
  void transmit_locked(int e, InFlight& f, std::span<const char> msg,
                       const std::vector<Segment>& segs, bool short_call, unsigned window);
  // Tasks transmitted while a Batch lives are sent when it ends, an engine's together.
  class Batch {
   public:
    explicit Batch(EngineLinks& links)
        : links_(links), outer_(std::exchange(links.batching_, true)) {}
    ~Batch() noexcept(false);
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    EngineLinks& links_;
    bool outer_;  // a batch was already open
  };
  // Hands every result that arrived (and live output, when streaming) to the ResultHandler.
  bool poll_results_locked();
  // Whether the task's message (all of the tasks') left rank 0.
  bool sent_locked(MsgId first, std::uint32_t n);
  bool sent_locked(MsgId id);
  // The inbox, for adopting a large result's buffer; null inline and after close.
  ResultInbox* inbox() noexcept { return inbox_.get(); }
  // Names tasks sent to engine rank e + 1 that must not start (engine_abort.hpp).
  void send_aborts(int e, const std::vector<MsgId>& ids) { abort_out_->send(e + 1, ids); }
  // A finished task lets go of its source. When that was the last reference to a small
  // one-task source (an apply's), freeing it waits for free_spent_locked: called after the next
  // send and at the next poll, while a task is in flight, not between a result's arrival and
  // the thread waiting for it. Anything else is let go at once.
  void release_source_locked(std::shared_ptr<TaskSource>& src);
  void free_spent_locked() noexcept {
    if (!spent_.empty()) spent_.clear();
  }
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
  bool batching_ = false;
  std::vector<int> staged_engines_;  // engines with staged tasks
  std::vector<std::shared_ptr<TaskSource>> spent_;  // release_source_locked

  void send_staged_locked(int e);
};

}  // namespace mpiply::detail
