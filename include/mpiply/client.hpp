#pragma once
// Client: rank 0's view of the job, as ipyparallel's Client. Engine ids are 0..N-2 (engine i is
// MPI rank i+1); with a single rank there is one inline engine 0 that runs tasks on rank 0.
// With RunOptions::client_runs_tasks, rank 0 is also engine N-1 (ids 0..N-1).
// Iterating a Client gives an EngineView per engine: for (mpiply::EngineView e : rc) ...
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <memory>
#include <type_traits>
#include <utility>
#include <optional>
#include <vector>

#include <concepts>

#include <mpiply/db_result.hpp>
#include <mpiply/direct_view.hpp>
#include <mpiply/engine_view.hpp>
#include <mpiply/hub.hpp>
#include <mpiply/load_balanced_view.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/report.hpp>
#include <mpiply/summary.hpp>
#include <mpiply/query.hpp>
#include <mpiply/resources.hpp>

namespace mpiply {

// mpiply::all (hub.hpp): client[mpiply::all] is a DirectView on every engine.

namespace detail {
struct ClientFactory;  // src/run/run.cpp: the one place a Client is made
}

// Made by mpiply::run only; user code receives a Client& and may copy it within client_main.
class Client {
 public:
  // The engines in service, in id order: an engine shut down (shutdown(targets)) is left out.
  // Ids do not change: engine 2 stays engine 2 when engine 1 is shut down.
  std::vector<int> ids() const;
  // Number of engines in service.
  std::size_t size() const;
  // True when the job has one rank and tasks run inline on rank 0.
  bool inline_mode() const;
  // Outstanding tasks one engine may hold before the scheduler keeps the rest on rank 0 (an
  // engine running short tasks may hold more when hwm was not set: RunOptions::hwm).
  int hwm() const;
  // What engine id advertised at start-up: cores, GPU ids, memory, named resources
  // (docs/resources.md). A UsageError for an engine that does not exist.
  const EngineResources& engine_resources(int id) const;

  // client[i] (negative counts from the end of ids()), client[{0, 2}], client[mpiply::all]
  // (the engines in service). An engine that does not exist or was shut down is a UsageError.
  // An engine id is an integer; a bool is a compile-time error (client[true] is no engine).
  template <std::integral I>
  EngineView operator[](I id) const {
    return engine(engine_arg(id));
  }
  DirectView operator[](const std::vector<int>& ids) const;
  DirectView operator[](All) const { return direct_view(); }
  DirectView direct_view() const;
  DirectView direct_view(All) const { return direct_view(); }
  template <std::integral I>
  DirectView direct_view(I id) const {
    return direct_view_of(engine_arg(id));
  }
  DirectView direct_view(const std::vector<int>& ids) const { return (*this)[ids]; }
  LoadBalancedView load_balanced_view() const;
  LoadBalancedView load_balanced_view(All) const { return load_balanced_view(); }
  // Balances over the given engines only (ids checked, duplicates dropped, any order).
  LoadBalancedView load_balanced_view(const std::vector<int>& ids) const;
  // Over one engine: every task goes there, with the load-balanced view's flags and retries.
  template <std::integral I>
  LoadBalancedView load_balanced_view(I id) const {
    return load_balanced_view(std::vector<int>{engine_arg(id)});
  }

  // Clears the namespaces (pushed values) of every engine, or of the given ones, as
  // ipyparallel's Client.clear; returns once they are cleared.
  void clear() const;
  void clear(const std::vector<int>& targets) const;

  // Engines in service in id order, each as an EngineView.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = EngineView;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    EngineView operator*() const {
      return c_->engine(c_->ids().at(static_cast<std::size_t>(id_)));
    }
    iterator& operator++() {
      ++id_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++id_;
      return old;
    }
    bool operator==(const iterator& o) const { return id_ == o.id_; }

   private:
    friend class Client;
    iterator(const Client* c, int id) : c_(c), id_(id) {}
    const Client* c_ = nullptr;
    int id_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, static_cast<int>(size())); }

  // Waits for every task submitted so far; false if the timeout passed first.
  bool wait(std::optional<Seconds> timeout = std::nullopt) const;
  // Waits for these tasks (msg ids, results, history positions); false on timeout.
  bool wait(const Jobs& jobs, std::optional<Seconds> timeout = std::nullopt) const;
  // Msg ids of every task this client submitted, oldest first (purged ones left out).
  std::vector<MsgId> history() const;
  std::vector<MsgId> outstanding() const;
  // A msg id is an mpiply::MsgId: a bool or another integer type does not compile.
  template <std::integral I>
  TaskMetadata metadata(I id) const {
    static_assert(std::is_same_v<I, MsgId>,
                  "a msg id must be an mpiply::MsgId (from msg_ids() or history()); a bool or "
                  "another integer type does not convert to one: write mpiply::MsgId{n}");
    return metadata_of(id);
  }
  // Those engines stop serving: they leave ids(), client[id] and direct_view naming them are a
  // UsageError, load-balanced tasks never go there (a task with no engine left fails), and
  // calls through views made before name them fail with TaskAborted. Tasks they already hold
  // finish. Their ranks stay in the MPI job, idle, until it ends (MPI has no leaving early).
  void shutdown(const std::vector<int>& targets) const;

  // wait() with a progress line over every task so far, counting items (src/client/progress_line.cpp;
  // see AsyncResultBase::wait_interactive).
  bool wait_interactive(Seconds interval = Seconds(1), std::optional<Seconds> timeout = std::nullopt,
                        std::FILE* out = stdout) const;
  // summary() and the Chrome-trace timeline over every task so far (src/client/summary.cpp,
  // src/hub/timeline.cpp).
  ResultSummary summary(std::size_t slowest = 5) const;
  void write_timeline(const std::string& path) const;
  // The HTML report of every task so far, from the hub's records (report.hpp; no database
  // needed): Gantt chart, utilization, durations, slowest and failed tasks, summary.
  void report(const std::string& path, const ReportOptions& options = {}) const;
  // Sends signal signum to the isolated tasks running on the given engines (all by default), as
  // ipyparallel's send_signal interrupts a running cell: each such task's worker process gets it
  // when its engine next reads control messages (within ~20 ms). With the default action of
  // SIGINT, SIGTERM, SIGKILL... the task fails with TaskCrashed naming the signal; a task may
  // also handle it. Tasks that are not isolated are not signalled (their engine process runs
  // MPI), nor are tasks that start later. Fire and forget. See docs/isolation.md.
  void send_signal(int signum) const;
  void send_signal(int signum, const std::vector<int>& targets) const;
  // The same by name, as ipyparallel takes it: "SIGINT" or "INT" (any case). An unknown name is
  // a UsageError listing the names.
  void send_signal(std::string_view name) const;
  void send_signal(std::string_view name, const std::vector<int>& targets) const;

  // ---- The hub (docs/hub.md): rank 0's task table, after the AsyncResults are gone ----------
  // Tasks not yet started never run: those queued on rank 0 fail at once with TaskAborted, those
  // waiting on an engine behind others (hwm > 1) when the engine reaches them. A running task
  // finishes (abort cannot stop running code); finished ones are left alone. abort() aborts
  // every outstanding task. Returns how many tasks it reached.
  std::size_t abort() const;
  std::size_t abort(const Jobs& jobs) const;
  // A handle on earlier tasks, with their values (T must be the values' type: UsageError
  // otherwise), their metadata and errors; for tasks still running it fills as they finish.
  // rc.get_result<double>(id).get() -> one value per item of the tasks, in the order given.
  template <class T>
  AsyncMapResult<T> get_result(const Jobs& jobs) const {
    return AsyncMapResult<T>(detail::hub_typed_state<T>(core_, resolve(jobs, "get_result"),
                                                        "get_result"),
                             true);
  }
  // The same without values: waiting, status, metadata.
  AsyncResultBase get_result(const Jobs& jobs) const;
  // Finished tasks whose values the hub holds, by msg id (values decoded on access).
  std::map<MsgId, StoredResult> results() const;
  // Every task's metadata, by msg id.
  std::map<MsgId, TaskMetadata> metadata() const;
  // Which of these tasks are pending and which completed (with their results unless
  // status_only).
  ResultStatus result_status(const Jobs& jobs, bool status_only = true) const;
  // Per engine: tasks waiting for it on rank 0, on it, completed there; plus unassigned
  // load-balanced tasks. Empty targets = every engine. verbose adds the msg ids.
  QueueStatus queue_status(const std::vector<int>& targets = {}, bool verbose = false) const;
  // Forget finished tasks, freeing their memory (purging an outstanding task named by id is a
  // UsageError; mpiply::all skips outstanding ones). targets adds every finished task that ran
  // on those engines. purge_local_results drops the values kept for get_result/results() (and
  // the arguments kept for resubmit); purge_hub_results also drops the records (gone from
  // history, hub_history, metadata, db_query); purge_results does both, purge_everything does
  // both for every finished task.
  void purge_results(const Jobs& jobs, const std::vector<int>& targets = {}) const;
  void purge_local_results(const Jobs& jobs, const std::vector<int>& targets = {}) const;
  void purge_hub_results(const Jobs& jobs, const std::vector<int>& targets = {}) const;
  void purge_everything() const;
  // Runs finished calls again with the same function and arguments, under new msg ids (same
  // engine for direct tasks, load-balanced otherwise). UsageError for a task still outstanding.
  AsyncResultBase resubmit(const Jobs& jobs) const;
  template <class T>
  AsyncMapResult<T> resubmit(const Jobs& jobs) const {
    auto st = detail::hub_resubmit(core_, resolve(jobs, "resubmit"), &typeid(T));
    return AsyncMapResult<T>(std::static_pointer_cast<detail::ResultState<T>>(st), true);
  }
  // Every msg id the hub knows, oldest first.
  std::vector<MsgId> hub_history() const;
  // Records matching q (query.hpp), whole.
  std::vector<TaskMetadata> db_query(const Query& q) const;
  // The same, projected: only the fields named in keys are there, the others absent
  // (DbRecord's std::optional fields); msg_id and run always. Empty keys: every field.
  std::vector<DbRecord> db_query(const Query& q, const std::vector<std::string>& keys) const;
  // Bytes the hub holds for kept values (24 per task plus results over 16 bytes); purge
  // gives them back.
  std::size_t results_bytes() const;

  // ---- Earlier runs in the task database (MPIPLY_DB; docs/database.md "Reading earlier runs").
  // With the database on, db_query above also returns the matching records of earlier runs
  // (TaskMetadata::run tells them apart; msg ids restart with each run), read from the file a row
  // at a time; this run's records come from memory as without it.
  // This run's id in the database (TaskMetadata::run of its tasks); 0 when it is off.
  std::int64_t db_run() const;
  // Every run recorded in the database, oldest first (this one last). UsageError when it is off.
  std::vector<DbRun> db_runs() const;
  // Every task of every run: earlier runs' from the file (run by run, msg id order), then this
  // run's as hub_history() lists them. UsageError when the database is off.
  std::vector<RecordId> hub_history(AllRuns) const;
  // A finished task of any run, read from the file: rc.get_result(mpiply::RecordId{2, 17}) or
  // rc.get_result(mpiply::RecordId::parse("2:17")); its values with .get<T>(). UsageError (naming
  // it) for a run or msg id the file does not hold, or when the database is off. (A template
  // only so that rc.get_result({id1, id2}) keeps meaning msg ids of this run.)
  template <std::same_as<RecordId> R>
  DbResult get_result(const R& id) const {
    return get_record(id);
  }

 private:
  std::vector<MsgId> resolve(const Jobs& jobs, const char* what) const;
  DbResult get_record(const RecordId& id) const;  // src/client/client_db_hub.cpp
  friend struct detail::ClientFactory;
  explicit Client(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}
  int check_id(int id) const;
  EngineView engine(int id) const;
  DirectView direct_view_of(int id) const;
  TaskMetadata metadata_of(MsgId id) const;
  // An engine id given as any integer type but bool, range-checked into an int.
  template <class I>
  static int engine_arg(I id) {
    static_assert(!std::is_same_v<I, bool>,
                  "an engine id must be an integer; a bool is not an engine id (client[true] "
                  "would mean engine 1)");
    if (!std::in_range<int>(id)) engine_id_out_of_range(static_cast<long long>(id));
    return static_cast<int>(id);
  }
  [[noreturn]] static void engine_id_out_of_range(long long id);
  std::vector<int> all_in_service(const char* what) const;  // ids(), or a UsageError if none
  std::vector<TaskMetadata> all_metadata() const;  // src/client/summary.cpp
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace mpiply
