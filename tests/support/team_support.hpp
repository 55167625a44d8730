#pragma once
// What test_teams.cpp and test_team_map.cpp share: a member that reports what it saw of its
// team, a one-engine task, the communicator count, and the check of one team's values. Each
// program registers the ones it uses.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"

namespace team_test {

// What a member saw: its engine id, task_comm's size and its rank there, and the sum over
// task_comm of every member's engine id + 1.
using Seen = std::tuple<int, int, int, int>;

inline Seen member(std::string gate) {
  // Every member waits for rank 0's gate, so the test decides when the team may end.
  if (sched_test::gate_item(std::move(gate), 0) != 0) return {-1, 0, 0, 0};
  MPI_Comm c = mpiply::task_comm();
  int size = 0, rank = 0;
  MPI_Comm_size(c, &size);
  MPI_Comm_rank(c, &rank);
  int mine = mpiply::this_engine().id() + 1, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, c);
  return {mpiply::this_engine().id(), size, rank, sum};
}

inline int one_engine(int x) { return x + 1; }

inline std::uint64_t comms_made() {
  MPI_Barrier(mpiply::task_comm());
  return mpiply::task_comms_created();
}

// The sum member() reports for a team on these engines.
inline int expected_sum(const std::vector<int>& engines) {
  int s = 0;
  for (int e : engines) s += e + 1;
  return s;
}

// Checks one team's values: k members, ranks 0..k-1 on ascending engines, the sum of the
// members only. Returns the engines.
inline std::vector<int> check_team(const std::vector<Seen>& got, int k) {
  REQUIRE(static_cast<int>(got.size()) == k);
  std::vector<int> engines;
  for (const auto& s : got) engines.push_back(std::get<0>(s));
  CHECK(std::is_sorted(engines.begin(), engines.end()));
  for (int r = 0; r < k; ++r) {
    CHECK(std::get<1>(got[static_cast<std::size_t>(r)]) == k);
    CHECK(std::get<2>(got[static_cast<std::size_t>(r)]) == r);
    CHECK(std::get<3>(got[static_cast<std::size_t>(r)]) == expected_sum(engines));
  }
  return engines;
}

}  // namespace team_test
