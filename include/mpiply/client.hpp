#pragma once
// Client: rank 0's view of the job, as ipyparallel's Client. Engine ids are 0..N-2 (engine i is
// MPI rank i+1); with a single rank there is one inline engine 0 that runs tasks on rank 0.
#include <memory>
#include <optional>
#include <vector>

#include <mpiply/direct_view.hpp>
#include <mpiply/load_balanced_view.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply {

struct All {};
// client[mpiply::all]: a DirectView on every engine.
inline constexpr All all{};

class Client {
 public:
  explicit Client(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::vector<int> ids() const;
  // True when the job has one rank and tasks run inline on rank 0.
  bool inline_mode() const;
  // Outstanding tasks one engine may hold before the scheduler keeps the rest on rank 0.
  int hwm() const;

  // client[i] (negative counts from the end), client[{0, 2}], client[mpiply::all].
  EngineView operator[](int id) const;
  DirectView operator[](const std::vector<int>& ids) const;
  DirectView operator[](All) const { return direct_view(); }
  DirectView direct_view() const { return DirectView(core_, ids()); }
  DirectView direct_view(const std::vector<int>& ids) const { return (*this)[ids]; }
  LoadBalancedView load_balanced_view() const { return LoadBalancedView(core_); }

  // Waits for every task submitted so far; false if the timeout passed first.
  bool wait(std::optional<Seconds> timeout = std::nullopt) const;
  std::vector<MsgId> history() const;
  std::vector<MsgId> outstanding() const;
  TaskMetadata metadata(MsgId id) const;

  const std::shared_ptr<detail::ClientCore>& core() const noexcept { return core_; }

 private:
  int check_id(int id) const;
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace mpiply
