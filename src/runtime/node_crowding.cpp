// Reads how crowded this node is and tunes MPI and the poll loops for it (node_crowding.hpp).
#include "runtime/node_crowding.hpp"

#include <sys/sysinfo.h>

#include <cstdlib>
#include <string>

#include "runtime/inventory.hpp"
#include "support/backoff.hpp"

namespace mpiply::detail {

NodeCrowding read_node_crowding() {
  NodeCrowding n;
  n.ranks = ranks_on_this_node();
  int cpus = get_nprocs();
  n.cpus = cpus >= 1 ? static_cast<unsigned>(cpus) : 1u;
  return n;
}

bool yields_every_idle_poll(const NodeCrowding& n) noexcept {
  return n.cpus >= 1 && n.ranks / n.cpus >= kCrowdedRanksPerCpu;
}

std::optional<unsigned> fast_box_peers(const NodeCrowding& n) noexcept {
  if (n.ranks <= kDefaultFastBoxPeers) return std::nullopt;
  return n.ranks;
}

void prepare_mpi_for_node(const NodeCrowding& n) {
  if (auto peers = fast_box_peers(n))
    setenv("OMPI_MCA_btl_vader_fbox_max", std::to_string(*peers).c_str(), /*overwrite=*/0);
}

void apply_node_crowding(const NodeCrowding& n) { Backoff::set_crowded(yields_every_idle_poll(n)); }

}  // namespace mpiply::detail
