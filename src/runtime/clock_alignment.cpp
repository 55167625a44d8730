// Clock alignment at start-up (clock_alignment.hpp).
#include "runtime/clock_alignment.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>

#include <mpiply/detail/wire.hpp>

#include "support/clock.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

namespace {

constexpr int kClockRounds = 8;

// The engine's side of one measurement: answer each of rank 0's pings with its wall time.
void answer_clock_pings(MPI_Comm comm) {
  for (int k = 0; k < kClockRounds; ++k) {
    mpi_check(MPI_Recv(nullptr, 0, MPI_BYTE, 0, kTagClock, comm, MPI_STATUS_IGNORE), "MPI_Recv");
    std::int64_t t1 = now_ns();
    mpi_check(MPI_Send(&t1, 1, MPI_INT64_T, 0, kTagClock, comm), "MPI_Send");
  }
}

// Rank 0's side: the engine's wall clock minus rank 0's, from the round trip with the shortest
// delay.
std::int64_t measure_offset(MPI_Comm comm, int engine_rank) {
  std::int64_t best_rtt = std::numeric_limits<std::int64_t>::max(), offset = 0;
  for (int k = 0; k < kClockRounds; ++k) {
    // The round trip is measured on the steady clock (a wall-clock step mid-exchange must not
    // pick the wrong round); the wall clock gives only the send time to align with.
    std::int64_t w0 = now_ns(), s0 = steady_ns();
    mpi_check(MPI_Send(nullptr, 0, MPI_BYTE, engine_rank, kTagClock, comm), "MPI_Send");
    std::int64_t t1 = 0;
    mpi_check(MPI_Recv(&t1, 1, MPI_INT64_T, engine_rank, kTagClock, comm, MPI_STATUS_IGNORE),
              "MPI_Recv");
    std::int64_t rtt = steady_ns() - s0;
    if (rtt < best_rtt) {
      best_rtt = rtt;
      offset = t1 - (w0 + rtt / 2);
    }
  }
  return offset;
}

}  // namespace

std::string kernel_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (!std::getline(in, id)) return {};
  return id;
}

std::vector<int> clock_leaders(const std::vector<std::string>& boot_ids) {
  std::vector<int> leader(boot_ids.size());
  std::map<std::string, int> first_of_kernel;
  for (std::size_t r = 0; r < boot_ids.size(); ++r) {
    int self = static_cast<int>(r);
    if (boot_ids[r].empty()) {
      leader[r] = self;
      continue;
    }
    leader[r] = first_of_kernel.try_emplace(boot_ids[r], self).first->second;
  }
  return leader;
}

bool all_under_rank0_kernel(const std::vector<std::string>& boot_ids) {
  std::vector<int> leader = clock_leaders(boot_ids);
  return std::all_of(leader.begin(), leader.end(), [](int l) { return l == 0; });
}

ClockAlignment align_clocks(MPI_Comm comm, const std::vector<std::string>& boot_ids) {
  int rank = 0, size = 1;
  mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  std::vector<int> leader(static_cast<std::size_t>(size));
  if (rank == 0) leader = clock_leaders(boot_ids);
  mpi_check(MPI_Bcast(leader.data(), size, MPI_INT, 0, comm), "MPI_Bcast");

  ClockAlignment out;
  std::vector<std::int64_t> offsets;
  if (rank == 0) {
    offsets.assign(static_cast<std::size_t>(size), 0);
    for (int r = 1; r < size; ++r) {
      auto i = static_cast<std::size_t>(r);
      if (leader[i] == r) {
        offsets[i] = measure_offset(comm, r);
        ++out.engines_measured;
      } else {
        offsets[i] = offsets[static_cast<std::size_t>(leader[i])];  // leaders come first
      }
    }
  } else if (leader[static_cast<std::size_t>(rank)] == rank) {
    answer_clock_pings(comm);
  }
  mpi_check(MPI_Scatter(offsets.data(), 1, MPI_INT64_T, &out.offset_ns, 1, MPI_INT64_T, 0, comm),
            "MPI_Scatter");
  return out;
}

}  // namespace mpiply::detail
