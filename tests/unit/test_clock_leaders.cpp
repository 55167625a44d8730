// Which ranks' clocks rank 0 measures at start-up (runtime/clock_alignment.hpp): one per kernel
// other than its own. Logic only.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/clock_alignment.hpp"

using mpiply::detail::all_under_rank0_kernel;
using mpiply::detail::clock_leaders;

TEST_CASE("ranks under rank 0's kernel share its clock: none is measured", "[clock]") {
  std::vector<std::string> ids(5, "kernel-a");
  CHECK(clock_leaders(ids) == std::vector<int>{0, 0, 0, 0, 0});
}

TEST_CASE("one rank per other kernel is measured; the rest of that kernel take its offset",
          "[clock]") {
  // A cluster of three nodes, ranks placed round-robin: rank 0 on a, then b, c, a, b, c.
  std::vector<std::string> ids{"a", "b", "c", "a", "b", "c"};
  CHECK(clock_leaders(ids) == std::vector<int>{0, 1, 2, 0, 1, 2});
  // Blocks of ranks per node.
  CHECK(clock_leaders({"a", "a", "b", "b", "b", "c"}) == std::vector<int>{0, 0, 2, 2, 2, 5});
}

TEST_CASE("a rank whose kernel is unknown is always measured on its own", "[clock]") {
  CHECK(clock_leaders({"a", "", "", "a"}) == std::vector<int>{0, 1, 2, 0});
  // Rank 0's own kernel unknown: nobody can share it, every other rank is measured or shares
  // the first rank of its kernel.
  CHECK(clock_leaders({"", "", "b", "b"}) == std::vector<int>{0, 1, 2, 2});
}

TEST_CASE("this process can name its kernel", "[clock]") {
  // Linux has had /proc/sys/kernel/random/boot_id since 2.6; empty only where /proc is missing.
  std::string id = mpiply::detail::kernel_boot_id();
  CHECK(id.size() == 36);  // a UUID
}

TEST_CASE("start-up skips the clock alignment only when every rank is under rank 0's kernel",
          "[clock]") {
  CHECK(all_under_rank0_kernel({"a", "a", "a"}));
  CHECK_FALSE(all_under_rank0_kernel({"a", "a", "b"}));
  CHECK_FALSE(all_under_rank0_kernel({"a", "", "a"}));  // an unknown kernel is measured
  CHECK_FALSE(all_under_rank0_kernel({"", "", ""}));
}
