// How crowded a node is and what mpiply changes for it (runtime/node_crowding.hpp): a fast box
// in Open MPI's shared memory for every rank of a node with more ranks than its default gives
// them to, and a yield on every idle poll at 32 ranks or more per CPU. Logic only: the
// decisions, the launcher's variables they read, and the variable they set before MPI_Init.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "runtime/inventory.hpp"
#include "runtime/node_crowding.hpp"
#include "support/backoff.hpp"

using mpiply::detail::Backoff;
using mpiply::detail::fast_box_peers;
using mpiply::detail::NodeCrowding;
using mpiply::detail::yields_every_idle_poll;

namespace {

// Sets (or unsets, with nullptr) one variable for a test and puts the old value back.
struct EnvAs {
  std::string name;
  std::optional<std::string> old;
  EnvAs(const char* n, const char* v) : name(n) {
    if (const char* o = std::getenv(n)) old = o;
    if (v) setenv(n, v, 1); else unsetenv(n);
  }
  ~EnvAs() {
    if (old) setenv(name.c_str(), old->c_str(), 1); else unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("idle polls yield from 32 ranks per CPU on", "[crowding]") {
  CHECK_FALSE(yields_every_idle_poll({.ranks = 2, .cpus = 2}));
  CHECK_FALSE(yields_every_idle_poll({.ranks = 5, .cpus = 2}));     // the suite's oversubscription
  CHECK_FALSE(yields_every_idle_poll({.ranks = 63, .cpus = 2}));
  CHECK(yields_every_idle_poll({.ranks = 64, .cpus = 2}));
  CHECK(yields_every_idle_poll({.ranks = 256, .cpus = 2}));
  CHECK_FALSE(yields_every_idle_poll({.ranks = 128, .cpus = 128}));  // a full node, one per core
  CHECK_FALSE(yields_every_idle_poll({.ranks = 256, .cpus = 0}));    // unknown CPUs: never
}

TEST_CASE("a node with more ranks than Open MPI's 32 fast boxes gets one per rank", "[crowding]") {
  CHECK(fast_box_peers({.ranks = 2, .cpus = 2}) == std::nullopt);
  CHECK(fast_box_peers({.ranks = 32, .cpus = 2}) == std::nullopt);
  CHECK(fast_box_peers({.ranks = 33, .cpus = 64}) == 33u);
  CHECK(fast_box_peers({.ranks = 256, .cpus = 2}) == 256u);
}

TEST_CASE("the ranks on a node come from mpirun's variable, else Slurm's", "[crowding]") {
  SECTION("mpirun") {
    EnvAs ompi("OMPI_COMM_WORLD_LOCAL_SIZE", "48");
    EnvAs slurm("SLURM_NTASKS_PER_NODE", "7");
    CHECK(mpiply::detail::read_node_crowding().ranks == 48);
  }
  SECTION("Slurm") {
    EnvAs ompi("OMPI_COMM_WORLD_LOCAL_SIZE", nullptr);
    EnvAs slurm("SLURM_NTASKS_PER_NODE", "7");
    CHECK(mpiply::detail::read_node_crowding().ranks == 7);
  }
  SECTION("neither, or a value that is not a count: one") {
    EnvAs ompi("OMPI_COMM_WORLD_LOCAL_SIZE", "many");
    EnvAs slurm("SLURM_NTASKS_PER_NODE", nullptr);
    CHECK(mpiply::detail::read_node_crowding().ranks == 1);
  }
  CHECK(mpiply::detail::read_node_crowding().cpus >= 1);
}

TEST_CASE("before MPI_Init, Open MPI is asked for a fast box per rank unless the user chose",
          "[crowding]") {
  const char* kVar = "OMPI_MCA_btl_vader_fbox_max";
  SECTION("many ranks: set to their number") {
    EnvAs v(kVar, nullptr);
    mpiply::detail::prepare_mpi_for_node({.ranks = 200, .cpus = 4});
    REQUIRE(std::getenv(kVar) != nullptr);
    CHECK(std::string(std::getenv(kVar)) == "200");
  }
  SECTION("the user's value stays") {
    EnvAs v(kVar, "16");
    mpiply::detail::prepare_mpi_for_node({.ranks = 200, .cpus = 4});
    CHECK(std::string(std::getenv(kVar)) == "16");
  }
  SECTION("few ranks: left unset") {
    EnvAs v(kVar, nullptr);
    mpiply::detail::prepare_mpi_for_node({.ranks = 8, .cpus = 4});
    CHECK(std::getenv(kVar) == nullptr);
  }
}

TEST_CASE("a crowded node turns on the yield of every Backoff, an uncrowded one turns it off",
          "[crowding]") {
  mpiply::detail::apply_node_crowding({.ranks = 256, .cpus = 2});
  CHECK(Backoff::crowded());
  {
    // A Backoff still spins out its window and then sleeps, yielding or not.
    Backoff b(mpiply::detail::BackoffPolicy{0, 0, 1000});
    CHECK_FALSE(b.spinning());
  }
  mpiply::detail::apply_node_crowding({.ranks = 4, .cpus = 2});
  CHECK_FALSE(Backoff::crowded());
}
