#pragma once
// The engines rank 0 serves, fixed at start-up: their ids, ranks, hosts and resources, whether
// rank 0 runs tasks itself (inline with one rank, or as the last engine with
// client_runs_tasks), the high-water mark each engine is filled to, and the deepest window an
// engine running short tasks may be given (window_policy.hpp).
#include <cstddef>
#include <string>
#include <vector>

#include <mpi.h>

#include "runtime/startup.hpp"

namespace mpiply::detail {

class EngineRoster {
 public:
  // With client_runs_tasks (and at least one engine rank), rank 0 also serves as the last
  // engine, id engines.size(): ranks 1..N-1 keep ids 0..N-2, so adding it changes no other
  // engine's id. With no engine rank, rank 0 is engine 0 and runs every task inline.
  // deepest: the largest number of tasks an engine may hold (at least hwm).
  EngineRoster(MPI_Comm comm, std::vector<EngineInfo> engines, int hwm, int deepest,
               bool client_runs_tasks);

  std::vector<int> ids() const;
  bool inline_mode() const { return inline_; }
  int hwm() const { return hwm_; }
  int deepest() const { return deepest_; }
  const EngineInfo& engine_info(int id) const { return engines_[id]; }
  std::size_t num_engines() const { return engines_.size(); }
  int num_ranks() const { return inline_ ? 1 : mpi_engines_ + 1; }
  // Engine ranks: ids 0..mpi_engines()-1, engine e on rank e + 1.
  int mpi_engines() const { return mpi_engines_; }
  // The engine id served on rank 0 by a LocalEngine, or -1.
  int local_id() const { return local_id_; }
  bool client_runs_tasks() const { return local_id_ >= 0; }
  MPI_Comm comm() const { return comm_; }  // the library's communicator; MPI under `mu` only
  const std::string& engine_host(int e) const {
    static const std::string none;
    return e >= 0 ? engines_[static_cast<std::size_t>(e)].hostname : none;
  }

 private:
  MPI_Comm comm_;
  std::vector<EngineInfo> engines_;
  bool inline_;
  int hwm_;
  int deepest_;
  int mpi_engines_ = 0;  // engine ranks: ids 0..mpi_engines_-1
  int local_id_ = -1;
};

}  // namespace mpiply::detail
