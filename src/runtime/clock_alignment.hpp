#pragma once
// Aligning the engines' wall clocks to rank 0's at start-up, so that `started`/`completed`
// stamped on an engine compare with `submitted`/`received` stamped on rank 0.
//
// Ranks under one kernel read one CLOCK_REALTIME: their offset is exactly zero, and measuring it
// would only add the estimate's error. So each rank names its kernel (the boot id), rank 0
// measures one engine per other kernel (NTP-style, the round trip with the shortest delay wins)
// and every engine under that kernel takes the same offset. On one host no round trip is made
// (start-up then skips align_clocks altogether: startup.cpp); on a cluster there are as many as
// hosts, not ranks.
#include <cstdint>
#include <string>
#include <vector>

#include <mpi.h>

namespace mpiply::detail {

// This kernel's boot id (/proc/sys/kernel/random/boot_id): the same for every process under one
// running kernel, different after a reboot or on another machine. Empty where it cannot be read;
// such a rank is always measured.
std::string kernel_boot_id();

// For each rank, the rank whose clock offset it shares: 0 under rank 0's kernel, itself when it
// is the first rank of its kernel (or its kernel is unknown), else the first rank of its kernel.
// boot_ids[r] is rank r's kernel_boot_id().
std::vector<int> clock_leaders(const std::vector<std::string>& boot_ids);

// Whether every rank runs under rank 0's kernel (clock_leaders all 0): then every offset is 0
// and start-up need not call align_clocks at all.
bool all_under_rank0_kernel(const std::vector<std::string>& boot_ids);

struct ClockAlignment {
  std::int64_t offset_ns = 0;  // engines: subtract from local wall time to get rank 0's
  int engines_measured = 0;    // rank 0: engines it exchanged round trips with
};

// Collective over comm; boot_ids matters on rank 0 only (gathered there). Rank 0 measures each
// leader in turn, then every engine receives its offset.
ClockAlignment align_clocks(MPI_Comm comm, const std::vector<std::string>& boot_ids);

}  // namespace mpiply::detail
