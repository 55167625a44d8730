#pragma once
// Start-up handshake on the library's communicator: every rank checks its function registry
// against rank 0's, engines report host and pid, and engine clocks are aligned to rank 0's.
#include <cstdint>
#include <string>
#include <vector>

#include <mpi.h>

#include <mpiply/resources.hpp>

namespace mpiply::detail {

struct EngineInfo {
  int rank = 0;
  std::string hostname;
  long pid = 0;
  EngineResources resources;  // what it advertised (runtime/inventory.hpp)
};

struct StartupResult {
  bool ok = true;
  std::string error;                // rank 0: what went wrong and how to fix it
  std::vector<EngineInfo> engines;  // rank 0: one per engine
  std::int64_t clock_offset_ns = 0;  // engines: subtract from local time to get rank 0's
};

StartupResult startup(MPI_Comm comm);
std::string this_hostname();

// This rank's wall time in each start-up phase of the latest mpiply::run, in seconds: the
// registry agreement (names, signatures, builds, hosts, inventories gathered and judged), the
// clock alignment (rank 0: one engine per other kernel in turn, clock_alignment.hpp) and the
// engine communicator's creation (timed by run). One steady-clock read per phase boundary;
// nothing prints them: bench --part scale reads them to show how each grows with the number of
// ranks. Beside them, what the clock alignment found.
struct StartupPhases {
  double registry_s = 0, clock_align_s = 0, engine_comm_s = 0;
  int clock_engines_measured = 0;   // rank 0: engines it exchanged round trips with
  std::int64_t clock_offset_ns = 0;  // engines: the offset this engine was given
};
StartupPhases last_startup_phases();
void note_engine_comm_seconds(double s);

}  // namespace mpiply::detail
