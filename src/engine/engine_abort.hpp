#pragma once
// Aborting tasks that already sit on an engine behind others (hwm > 1): both ends of the abort
// message. Rank 0 sends an engine the msg ids to drop (AbortOutbox); the engine keeps them and,
// before it starts a call task, answers an aborted one with TaskAborted items instead of running
// it (EngineAborts). A task already running finishes: code cannot be stopped by a message.
//
// The per-task cost is kept off the critical path: the engine tests its abort receive before a
// task only if 20 us passed since it last did, read from the previous result's stamps (no extra
// clock read). After a task that ran long (the one others wait behind) it always tests; in a
// stream of short tasks, once per 20 us. Checking a task against the aborted ids is an atomic
// load unless some abort is pending.
#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <unordered_set>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/wire.hpp>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/engine.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {


// Msg ids per abort message (an engine holds at most 1024 tasks: hwm and threads are <= 1024).
inline constexpr std::size_t kAbortIdsPerMessage = 1024;

// Rank 0's side: nonblocking sends, each buffer kept until its send completed.
class AbortOutbox {
 public:
  explicit AbortOutbox(MPI_Comm comm) : comm_(comm) {}
  ~AbortOutbox();  // completes every send (engines keep their abort receive posted until stop)
  AbortOutbox(const AbortOutbox&) = delete;
  AbortOutbox& operator=(const AbortOutbox&) = delete;
  void send(int rank, const std::vector<MsgId>& ids);

 private:
  struct Pending {
    std::vector<MsgId> ids;
    MPI_Request req = MPI_REQUEST_NULL;
  };
  MPI_Comm comm_;
  std::list<Pending> pending_;  // stable addresses: MPI writes from them
};

// The engine's side.
class EngineAborts {
 public:
  explicit EngineAborts(MPI_Comm comm);
  ~EngineAborts();
  EngineAborts(const EngineAborts&) = delete;
  EngineAborts& operator=(const EngineAborts&) = delete;

  // The single-threaded engine, once per task: true if msg was aborted, its answer then in out
  // (which still holds the previous task's result when this is called).
  bool answered(std::span<const char> msg, const Engine& eng, Bytes& out) {
    if (poll_due(out)) poll();
    return answer_if_aborted(msg, eng, out);
  }

  // Takes the abort requests that arrived. Calls MPI: the engine's MPI thread only.
  void poll();
  // Any thread: if msg is a call rank 0 aborted, writes its answer into out and returns true.
  bool answer_if_aborted(std::span<const char> msg, const Engine& eng, Bytes& out);

 private:
  // Whether 20 us passed since the last poll, by the stamps of the previous result.
  bool poll_due(const Bytes& last_result);

  MPI_Comm comm_;
  MPI_Request req_ = MPI_REQUEST_NULL;
  std::vector<MsgId> buf_;
  std::int64_t polled_at_ = 0;  // completed stamp of the result before the last poll
  std::atomic<bool> any_{false};
  std::mutex mu_;
  std::unordered_set<MsgId> ids_;
};

}  // namespace mpiply::detail
