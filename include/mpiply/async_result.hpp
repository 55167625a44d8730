#pragma once
// AsyncResult: the handle a non-blocking apply returns, as ipyparallel's AsyncResult. It waits for
// results, re-raises remote errors, and reports timing metadata. Handles are cheap to copy; the
// destructor never blocks or throws.
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

// Everything that does not depend on the value type (src/async_result_base.cpp).
class AsyncResultBase {
 public:
  explicit AsyncResultBase(std::shared_ptr<detail::ResultStateBase> st) : st_(std::move(st)) {}

  bool ready() const;
  // Waits until every task finished; false if the timeout passed first (nothing is lost).
  bool wait(std::optional<Seconds> timeout = std::nullopt) const;
  // True when ready and no task raised; throws NotReadyError while pending.
  bool successful() const;
  // Seconds since submission, on the steady clock; defined while pending.
  double elapsed() const;
  // Items finished so far, and items in all (one per apply target, or per map input).
  std::size_t progress() const;
  std::size_t size() const;
  // Sum over tasks of (completed - started), in seconds. NotReadyError while pending: a partial
  // sum would look like an answer (ipyparallel raises too).
  double serial_time() const;
  // Latest received minus earliest submitted, in seconds. NotReadyError while pending.
  double wall_time() const;
  std::vector<TaskMetadata> metadata() const;
  std::vector<MsgId> msg_ids() const;
  const std::string& function() const { return st_->fname; }
  // True once every task's message has left rank 0 (queued tasks are not yet sent).
  bool sent() const;
  void wait_for_send(std::optional<Seconds> timeout = std::nullopt) const;
  // Aborts the tasks not yet started, on rank 0 or waiting on an engine behind others: their
  // items fail with TaskAborted, the rest keep their values. A running task finishes (abort
  // cannot stop running code). Finished tasks are left alone. Returns how many tasks it reached.
  std::size_t abort() const;

  // The timestamps of the tasks (absent ones left out).
  std::vector<TimePoint> submitted() const;
  std::vector<TimePoint> started() const;
  std::vector<TimePoint> completed() const;
  std::vector<TimePoint> received() const;
  // Seconds between start_key(start) and end_key(end); by default earliest start to latest end.
  using Key = TimePoint (*)(const std::vector<TimePoint>&);
  static TimePoint earliest(const std::vector<TimePoint>& v);
  static TimePoint latest(const std::vector<TimePoint>& v);
  static double timedelta(const std::vector<TimePoint>& start, const std::vector<TimePoint>& end,
                          Key start_key = &earliest, Key end_key = &latest);

 protected:
  // Waits (raising TimeoutError) for all items; then throws the single failure as its specific
  // type (RemoteError or a subclass), or a CompositeError, if any item failed.
  void wait_or_throw(std::optional<Seconds> timeout, bool composite) const;
  // Throws NotReadyError naming `what` unless every item finished. Lock held.
  void require_ready_locked(const char* what) const;
  // Engine of each item, for get_dict (raises if an engine ran more than one task).
  std::vector<int> item_engines_for_dict() const;
  // Waits for item i (in input order) and raises its error if it failed.
  void wait_item(std::size_t i) const;
  // Waits until at least pos+1 items arrived; returns the item index that arrived pos-th.
  std::size_t wait_arrival(std::size_t pos) const;

  std::shared_ptr<detail::ResultStateBase> st_;
};

template <class T>
class AsyncResult : public AsyncResultBase {
 public:
  using value_type = T;
  explicit AsyncResult(std::shared_ptr<detail::ResultState<T>> st)
      : AsyncResultBase(st), typed_(std::move(st)) {}

  // The result; re-raises the task's exception as RemoteError, or as the subclass it is
  // (MessageTooLarge, EncodeError, MessageDecodeError, TaskAborted). With a timeout, raises
  // TimeoutError when it passes first.
  T get(std::optional<Seconds> timeout = std::nullopt) const {
    wait_or_throw(timeout, false);
    return *typed_->values[0];
  }
  // Engine id -> value.
  std::map<int, T> get_dict(std::optional<Seconds> timeout = std::nullopt) const {
    wait_or_throw(timeout, false);
    auto engines = item_engines_for_dict();
    return {{engines[0], *typed_->values[0]}};
  }

 private:
  std::shared_ptr<detail::ResultState<T>> typed_;
};

}  // namespace mpiply
