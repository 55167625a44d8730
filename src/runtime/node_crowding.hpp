#pragma once
// How crowded this node is: the ranks the launcher started on it against its CPUs, and what
// mpiply changes when there are many ranks on one node (docs/benchmarks.md, "Many engines").
//
// - More ranks than Open MPI gives shared-memory fast boxes to (its btl_vader_fbox_max, 32 by
//   default): every message to rank 0 from the other engines goes through rank 0's one shared
//   queue, whose writers link in two steps; a reader that finds a writer between them waits
//   until that writer runs again, a whole time slice when the node is oversubscribed. mpiply
//   then asks Open MPI, before MPI_Init, for a fast box per rank on the node
//   (OMPI_MCA_btl_vader_fbox_max), unless the user has set it.
// - At least kCrowdedRanksPerCpu ranks per CPU: an idle rank's poll loop gives up its CPU on
//   every poll that finds nothing (Backoff::set_crowded), since the rank it waits for cannot run
//   while it spins. Below that, yielding costs more than it gives (a system call per poll).
#include <optional>

namespace mpiply::detail {

inline constexpr unsigned kCrowdedRanksPerCpu = 32;
// Open MPI's default btl_vader_fbox_max.
inline constexpr unsigned kDefaultFastBoxPeers = 32;

struct NodeCrowding {
  unsigned ranks = 1;  // ranks on this node (runtime/inventory.hpp, ranks_on_this_node)
  unsigned cpus = 1;   // CPUs online on this node
};

// The launcher's variables and the CPUs online. Online CPUs, not this process's binding: a rank
// bound to one core of a full node is not crowded. In a job that holds part of a node, the node's
// CPUs overstate the job's, so crowding is missed there, never invented.
NodeCrowding read_node_crowding();

// Whether idle polls yield on every poll: ranks >= kCrowdedRanksPerCpu x cpus.
bool yields_every_idle_poll(const NodeCrowding& n) noexcept;

// The btl_vader_fbox_max that gives every rank on the node a fast box, when the default is too
// small; nullopt when the default covers them.
std::optional<unsigned> fast_box_peers(const NodeCrowding& n) noexcept;

// Before MPI_Init: sets OMPI_MCA_btl_vader_fbox_max (fast_box_peers) unless the user has set it.
// Only while no other thread can be reading the environment.
void prepare_mpi_for_node(const NodeCrowding& n);

// Turns on Backoff's yield on every idle poll when yields_every_idle_poll(n).
void apply_node_crowding(const NodeCrowding& n);

}  // namespace mpiply::detail
