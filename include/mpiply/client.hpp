#pragma once
// Client: rank 0's view of the job, as ipyparallel's Client. Engine ids are 0..N-2 (engine i is
// MPI rank i+1); with a single rank there is one inline engine 0 that runs tasks on rank 0.
// With RunOptions::client_runs_tasks, rank 0 is also engine N-1 (ids 0..N-1).
// Iterating a Client gives an EngineView per engine: for (mpiply::EngineView e : rc) ...
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <string>
#include <memory>
#include <optional>
#include <vector>

#include <mpiply/direct_view.hpp>
#include <mpiply/engine_view.hpp>
#include <mpiply/load_balanced_view.hpp>
#include <mpiply/metadata.hpp>
#include <mpiply/summary.hpp>

namespace mpiply {

struct All {};
// client[mpiply::all]: a DirectView on every engine.
inline constexpr All all{};

namespace detail {
struct ClientFactory;  // src/run.cpp: the one place a Client is made
}

// Made by mpiply::run only; user code receives a Client& and may copy it within client_main.
class Client {
 public:
  std::vector<int> ids() const;
  // Number of engines.
  std::size_t size() const;
  // True when the job has one rank and tasks run inline on rank 0.
  bool inline_mode() const;
  // Outstanding tasks one engine may hold before the scheduler keeps the rest on rank 0.
  int hwm() const;

  // client[i] (negative counts from the end), client[{0, 2}], client[mpiply::all].
  EngineView operator[](int id) const;
  DirectView operator[](const std::vector<int>& ids) const;
  DirectView operator[](All) const { return direct_view(); }
  DirectView direct_view() const;
  DirectView direct_view(All) const { return direct_view(); }
  DirectView direct_view(int id) const;
  DirectView direct_view(const std::vector<int>& ids) const { return (*this)[ids]; }
  LoadBalancedView load_balanced_view() const;
  // Balances over the given engines only (ids checked, duplicates dropped, any order).
  LoadBalancedView load_balanced_view(const std::vector<int>& ids) const;

  // Engines in id order, each as an EngineView.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = EngineView;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    EngineView operator*() const { return (*c_)[id_]; }
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
  std::vector<MsgId> history() const;
  std::vector<MsgId> outstanding() const;
  TaskMetadata metadata(MsgId id) const;
  // Those engines take no more tasks from now on: load-balanced tasks go elsewhere (a task
  // with no engine left fails), DirectView calls naming them fail with TaskAborted. Tasks they
  // already hold finish; the engines themselves stop with the job.
  void shutdown(const std::vector<int>& targets) const;

  // wait() with a progress line over every task so far, counting items (src/progress_line.cpp;
  // see AsyncResultBase::wait_interactive).
  bool wait_interactive(Seconds interval = Seconds(1), std::optional<Seconds> timeout = std::nullopt,
                        std::FILE* out = stdout) const;
  // summary() and the Chrome-trace timeline over every task so far (src/summary.cpp,
  // src/timeline.cpp).
  ResultSummary summary(std::size_t slowest = 5) const;
  void write_timeline(const std::string& path) const;
  // Sends signal signum to the isolated tasks running on the given engines (all by default), as
  // ipyparallel's send_signal interrupts a running cell: each such task's worker process gets it
  // when its engine next reads control messages (within ~20 ms). With the default action of
  // SIGINT, SIGTERM, SIGKILL... the task fails with TaskCrashed naming the signal; a task may
  // also handle it. Tasks that are not isolated are not signalled (their engine process runs
  // MPI), nor are tasks that start later. Fire and forget. See docs/isolation.md.
  void send_signal(int signum) const;
  void send_signal(int signum, const std::vector<int>& targets) const;

 private:
  friend struct detail::ClientFactory;
  explicit Client(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}
  int check_id(int id) const;
  std::vector<TaskMetadata> all_metadata() const;  // src/summary.cpp
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace mpiply
