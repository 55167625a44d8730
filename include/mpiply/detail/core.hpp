#pragma once
// The narrow interface templates use to reach rank 0's scheduler (src/client/client_core.*): submit a
// task source, take the client lock, and drive progress until a condition holds.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/task_flags.hpp>
#include <mpiply/time.hpp>

namespace mpiply::detail {

class ClientCore;
class ResultStateBase;

// A borrowed run of bytes sent as its own message after the task (large pushed arrays).
struct Segment {
  const char* data;
  std::size_t size;
};

// One submission: ntasks tasks with consecutive msg ids, each covering a contiguous run of items.
// Sources encode lazily, when the scheduler hands a task to an engine, so a map over millions of
// items holds its inputs once instead of millions of encoded messages.
struct TaskSource {
  virtual ~TaskSource() = default;
  std::shared_ptr<ResultStateBase> state;
  std::uint64_t fn_id = 0;
  std::uint32_t ntasks = 0;
  // One engine per task; empty = load-balanced. One inline slot: an apply allocates no list.
  boost::container::small_vector<int, 1> targets;
  std::vector<int> candidates;  // load-balanced over these engines only; empty = over all
  MsgId first_msg = 0;       // set by submit
  std::uint32_t next = 0;    // next undispatched task (load-balanced queue)
  TaskFlags flags;           // the view's flags merged with the call's, copied at submission
  // An argument is a Reference (resolved on the engine by name): the task database never
  // reuses such a task's stored result, since its key sees the name, not the value.
  bool has_references = false;
  // A team task (LoadBalancedView::apply_team): every k = flags.engines tasks are one team's
  // members, each sent with its team (TeamBlock) so task_comm() works.
  bool team = false;
  // How long its last finished task ran (rank 0 notes it from each result; -1 before the
  // first): tasks of a submission that runs briefly may have their results held and sent
  // together on the engine (src/engine/result_outbox.hpp).
  std::int64_t last_run_ns = -1;

  virtual std::size_t item_begin(std::uint32_t task) const = 0;
  virtual std::uint32_t item_count(std::uint32_t task) const = 0;
  // The message of task `task`: bytes the source keeps alive, or encoded into scratch.
  virtual std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                                       std::vector<Segment>& segments) = 0;
  // The message of a one-task source when those bytes are all of it (no segments, nothing
  // borrowed): the hub then keeps that copy for resubmit instead of the source. Empty otherwise.
  virtual std::span<const char> sole_message() const { return {}; }
};

using WaitPred = bool (*)(const void* ctx);

std::mutex& core_mutex(ClientCore& core);
// Assigns msg ids, records the tasks and dispatches what engines have room for.
MsgId core_submit(ClientCore& core, std::shared_ptr<TaskSource> src);
// Drives progress on this thread until pred(ctx) holds, checked with the lock held. False when
// the deadline passed first.
bool core_wait(ClientCore& core, WaitPred pred, const void* ctx,
               const std::optional<Deadline>& deadline);
std::vector<int> core_ids(const ClientCore& core);

}  // namespace mpiply::detail
