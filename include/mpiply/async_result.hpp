#pragma once
// AsyncResult: the handle a non-blocking apply returns, as ipyparallel's AsyncResult. It waits for
// results, re-raises remote errors, and reports timing metadata. Handles are cheap to copy; the
// destructor never blocks or throws.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/future.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/outcome.hpp>
#include <mpiply/publish.hpp>
#include <mpiply/summary.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

namespace detail {
struct WaitAccess;  // src/client/wait.cpp: wait_any, wait_all, as_completed
}

// Everything that does not depend on the value type (src/client/async_result_base.cpp).
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

  // Waits like wait(), showing progress on `out` every `interval`: on a terminal one line that
  // redraws (items done / total, percent, rate, elapsed, ETA); otherwise one plain line per
  // interval and a last one when done (src/client/progress_line.cpp).
  bool wait_interactive(Seconds interval = Seconds(1), std::optional<Seconds> timeout = std::nullopt,
                        std::FILE* out = ::stdout) const;
  // Per engine: tasks, items, busy time and share; the slowest tasks (src/client/summary.cpp). Counts
  // the tasks finished so far when called while pending.
  ResultSummary summary(std::size_t slowest = 5) const;
  // Every task of this result as Chrome trace events (Perfetto, chrome://tracing).
  void write_timeline(const std::string& path) const;

  // What each task wrote to stdout / stderr on its engine, one string per task (per map chunk),
  // in the order of msg_ids(); empty strings unless output is captured (MPIPLY_CAPTURE=1 or
  // RunOptions::capture_output; docs/output.md). Tasks not finished yet give "".
  std::vector<std::string> stdout() const;
  std::vector<std::string> stderr() const;
  // Prints the outputs as ipyparallel does: "[stdout:N] text" on out and "[stderr:N] text" on
  // err, N the engine id, tasks with empty output left out; a single result (an AsyncResult of
  // one apply) prints its text alone, without the prefix. groupby "type": every stdout, then
  // every stderr; "engine": per engine (by id), its stdout then its stderr; "order": as "type"
  // (ipyparallel's "order" differs only for rich display outputs, which mpiply has none of).
  // Any other groupby is a UsageError.
  void display_outputs(const std::string& groupby = "type", std::FILE* out = ::stdout,
                       std::FILE* err = ::stderr) const;
  // The latest data each task published (mpiply::publish_data), one map per task in the order
  // of msg_ids() (AsyncResult<T>::data() is a single apply's map itself); empty maps for tasks that published
  // nothing. With streaming on (RunOptions::stream_output) values of running tasks show here
  // as they arrive, otherwise when each task's result does.
  std::vector<DataMap> data() const;
  // Every item's value, for a handle made without a type (Client::get_result(jobs), resubmit):
  // rc.get_result(ids).get_as<double>(). T must be the values' type (UsageError naming it
  // otherwise); raises the tasks' errors as a map's get() does (CompositeError for several).
  template <class T>
  std::vector<T> get_as(std::optional<Seconds> timeout = std::nullopt) const {
    require_value_type(typeid(T), "get_as");
    wait_or_throw(timeout, true);
    const auto& typed = static_cast<const detail::ResultState<T>&>(*st_);
    std::vector<T> out;
    out.reserve(typed.values.size());
    for (const auto& v : typed.values) out.push_back(*v);
    return out;
  }

  // Waits until every task finished and its whole output and data arrived (ipyparallel's
  // wait_for_output); false if the timeout passed first. Streamed output still in flight when a
  // task ends is covered: each result carries its task's whole output and data.
  bool wait_for_output(std::optional<Seconds> timeout = std::nullopt) const;

 protected:
  friend struct detail::WaitAccess;
  // Runs fn once every item has finished (src/client/callbacks.cpp): queued under the lock and run
  // after it is released, by the progress thread or a waiting thread; at once on this thread
  // if already finished. An exception from fn is reported on stderr, never propagated.
  void on_done(std::function<void()> fn) const;
  // After waiting (TimeoutError if the timeout passes): each item's error, empty where it
  // succeeded (src/client/outcomes.cpp).
  std::vector<std::optional<RemoteError>> item_errors(std::optional<Seconds> timeout) const;

  // Waits (raising TimeoutError) for all items; then throws the single failure as its specific
  // type (RemoteError or a subclass), or a CompositeError, if any item failed.
  void wait_or_throw(std::optional<Seconds> timeout, bool composite) const;
  // UsageError naming both types unless the values are of type `type`.
  void require_value_type(const std::type_info& type, const char* what) const;
  // The handle fetched its results: results() no longer lists them (if it owns them). Lock held.
  void take_locked() const;
  // Throws NotReadyError naming `what` unless every item finished. Lock held.
  void require_ready_locked(const char* what) const;
  // Engine of each item, for get_dict (raises if an engine ran more than one task).
  std::vector<int> item_engines_for_dict() const;
  // Waits for item i (in input order) and raises its error if it failed.
  void wait_item(std::size_t i) const;
  // Waits until at least pos+1 items arrived; returns the item index that arrived pos-th.
  std::size_t wait_arrival(std::size_t pos) const;

  std::shared_ptr<detail::ResultStateBase> st_;

 private:
  static std::vector<std::string> outputs_of(const AsyncResultBase& ar, int stream);
  friend void detail::add_result_ids(const AsyncResultBase&, std::vector<MsgId>&, std::uint64_t&);
};

template <class T>
class AsyncResult : public AsyncResultBase {
 public:
  using value_type = T;
  explicit AsyncResult(std::shared_ptr<detail::ResultState<T>> st)
      : AsyncResultBase(st), typed_(std::move(st)) {
    st_->single = true;
  }

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
  // get(mpiply::return_exceptions): the value or the task's error, never a throw (but
  // TimeoutError when the timeout passes first).
  Outcome<T> get(ReturnExceptions, std::optional<Seconds> timeout = std::nullopt) const {
    // One task has one item; a team's (apply_team_root) has one per member, and any member's
    // failure is the task's.
    auto errs = item_errors(timeout);
    for (auto& e : errs)
      if (e) return Outcome<T>(std::move(*e));
    return Outcome<T>(*typed_->values[0]);
  }

  // The latest data the task published (mpiply::publish_data): the map itself, as
  // ipyparallel's single AsyncResult.data is a dict (AsyncResultBase::data() has one per task).
  DataMap data() const { return std::move(AsyncResultBase::data().front()); }

  // Calls f(result) once the task finished, successfully or not. Which thread runs it: the
  // thread that saw the result arrive once it has released the client's lock (rank 0's progress
  // thread, or a thread waiting on any result), or this thread at once if it already finished.
  // Never under the lock; an exception from f is reported on stderr (function, msg id) and the
  // job goes on. Keep callbacks short: results wait while one runs on the progress thread.
  template <class F>
  void add_done_callback(F f) const {
    on_done([self = *this, f = std::move(f)]() mutable { f(self); });
  }
  // A Future of f(value), run as a done callback; if the task failed, f is skipped and the
  // Future's get() rethrows the task's error.
  template <class F>
  Future<detail::then_value_t<F, const T&>> then(F f) const {
    using V = detail::then_value_t<F, const T&>;
    auto next = std::make_shared<detail::FutureState<V>>();
    AsyncResult self = *this;
    next->upstream_wait = [self](std::optional<Seconds> t) { return self.wait(t); };
    on_done([self, next, f = std::move(f)]() mutable {
      next->complete_with([&]() -> decltype(auto) { return f(*self.get_checked()); });
    });
    return Future<V>(next);
  }

 private:
  // The value slot once finished, raising the task's error (for then()).
  const std::optional<T>& get_checked() const {
    wait_or_throw(std::nullopt, false);
    return typed_->values[0];
  }
  std::shared_ptr<detail::ResultState<T>> typed_;
};

}  // namespace mpiply
