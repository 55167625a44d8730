#pragma once
// The value types of the hub (rank 0's task table, as ipyparallel's Hub): which tasks a call
// means (Jobs), a result kept after its AsyncResult is gone (StoredResult), and the answers of
// result_status and queue_status. The Client methods that use them are in client.hpp.
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <mpiply/async_map_result.hpp>
#include <mpiply/detail/hub_access.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply {

struct All {};
// client[mpiply::all]: a DirectView on every engine; rc.purge_results(mpiply::all): every task.
inline constexpr All all{};

// A position in the client's history: 0 is the first task, -1 the latest.
struct HistoryIndex {
  long index;
};

// Tasks named by msg id, by result handle (every task of it) or by history position, or every
// task (mpiply::all). rc.wait({id1, id2}), rc.abort(ar), rc.get_result<T>(HistoryIndex{-1}).
class Jobs {
 public:
  Jobs() = default;
  // Msg ids are taken only as mpiply::MsgId: a bool or another integer type (a literal 3, an
  // int loop counter) is a compile-time error, so that rc.wait(true) or {ar, 1} cannot name
  // a task by accident. Spell a literal id mpiply::MsgId{3}.
  template <std::integral I>
  Jobs(I id) : ids_{static_cast<MsgId>(id)} {  // NOLINT
    static_assert(std::is_same_v<I, MsgId>,
                  "a msg id must be an mpiply::MsgId (from msg_ids() or history()); a bool or "
                  "another integer type does not convert to one: write mpiply::MsgId{n}");
  }
  Jobs(std::vector<MsgId> ids) : ids_(std::move(ids)) {}  // NOLINT
  template <std::integral I>
  Jobs(std::initializer_list<I> ids) : ids_(ids.begin(), ids.end()) {  // NOLINT
    static_assert(std::is_same_v<I, MsgId>,
                  "a msg id must be an mpiply::MsgId (from msg_ids() or history()); a bool or "
                  "another integer type does not convert to one: write mpiply::MsgId{n}");
  }
  Jobs(const AsyncResultBase& r) : ids_(r.msg_ids()) {}         // NOLINT
  Jobs(HistoryIndex h) : history_{h.index} {}                   // NOLINT
  Jobs(std::vector<HistoryIndex> hs) {                          // NOLINT
    for (auto h : hs) history_.push_back(h.index);
  }
  template <class R>
    requires std::derived_from<R, AsyncResultBase>
  Jobs(const std::vector<R>& rs) {  // NOLINT
    for (const auto& r : rs)
      for (MsgId id : r.msg_ids()) ids_.push_back(id);
  }
  Jobs(All) : all_(true) {}  // NOLINT

  bool all() const noexcept { return all_; }
  const std::vector<MsgId>& ids() const noexcept { return ids_; }
  const std::vector<long>& history_positions() const noexcept { return history_; }
  bool empty() const noexcept { return !all_ && ids_.empty() && history_.empty(); }

 private:
  std::vector<MsgId> ids_;
  std::vector<long> history_;
  bool all_ = false;
};

// One finished task's result as the hub keeps it, read back on demand: cheap to copy (it holds
// the msg id, not the values). Typed access checks the type the task's values have.
class StoredResult {
 public:
  StoredResult(std::shared_ptr<detail::ClientCore> core, MsgId id, TaskStatus status,
               std::string function, std::string type, std::size_t items)
      : core_(std::move(core)), id_(id), status_(status), function_(std::move(function)),
        type_(std::move(type)), items_(items) {}
  MsgId msg_id() const noexcept { return id_; }
  TaskStatus status() const noexcept { return status_; }
  const std::string& function() const noexcept { return function_; }
  // The C++ type of the values, e.g. "double" (typed access must ask for exactly this type).
  const std::string& type_name() const noexcept { return type_; }
  // Items (1 for an apply, the chunk's items for a map task).
  std::size_t size() const noexcept { return items_; }
  // Every item's value; raises the task's error as AsyncMapResult::get does, UsageError if T is
  // not the values' type or the values were purged.
  template <class T>
  std::vector<T> get() const {
    return state<T>().get();
  }
  // Item i's value (raises its error).
  template <class T>
  T value(std::size_t i = 0) const {
    return state<T>().value(i);
  }

 private:
  template <class T>
  AsyncMapResult<T> state() const {
    return AsyncMapResult<T>(detail::hub_typed_state<T>(core_, {id_}, "StoredResult::get"), true);
  }
  std::shared_ptr<detail::ClientCore> core_;
  MsgId id_;
  TaskStatus status_;
  std::string function_, type_;
  std::size_t items_;
};

// rc.result_status(jobs, status_only): which are pending, which completed; with
// status_only = false also the completed ones' results.
struct ResultStatus {
  std::vector<MsgId> pending, completed;
  std::map<MsgId, StoredResult> results;
};

// One engine's share of the work: tasks waiting for it on rank 0 (sent to it directly),
// on the engine (sent, not yet answered: the first one running), and completed there. With
// verbose, the msg ids of each.
struct EngineQueue {
  std::size_t queued = 0, on_engine = 0, completed = 0;
  std::vector<MsgId> queued_ids, on_engine_ids, completed_ids;
};

// rc.queue_status(targets, verbose): per engine id, plus the load-balanced tasks no engine has
// been chosen for yet.
struct QueueStatus {
  std::map<int, EngineQueue> engines;
  std::size_t unassigned = 0;
  std::vector<MsgId> unassigned_ids;
};

}  // namespace mpiply
