// Rank 0's table of what captured tasks used (src/hub/usage_table.hpp): entries are found by task
// index across block boundaries, exactly as recorded; indices never recorded (skipped over, or
// past the end) have none; a later record replaces an earlier one (a retried task keeps its
// last). Pure logic on rank 0's side; no messages.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>

#include "hub/usage_table.hpp"

using mpiply::detail::UsageTable;

TEST_CASE("usage entries are kept by index across blocks, gaps have none", "[capture]") {
  UsageTable t;
  CHECK_FALSE(t.get(0).has_value());
  CHECK_FALSE(t.get(SIZE_MAX).has_value());  // msg id - base of an id below base wraps round

  // Every third index of the first 600,000 (past two block boundaries: 2^18 entries a block).
  constexpr std::size_t kN = 600'000;
  for (std::size_t i = 0; i < kN; i += 3)
    t.set(i, std::int64_t(i) * 1000, std::int64_t(i) + 1, std::int64_t(i) * 4096 + 1);
  // Either side of both boundaries (2^18 - 1, 2^18 + 2, 2^19 + 1), and the ends.
  for (std::size_t i : {std::size_t(0), std::size_t(3), std::size_t(262'143), std::size_t(262'146),
                        std::size_t(524'289), std::size_t(599'997)}) {
    INFO("index " << i);
    auto u = t.get(i);
    REQUIRE(u.has_value());
    CHECK(u->user == double(std::int64_t(i) * 1000) / 1e9);
    CHECK(u->system == double(std::int64_t(i) + 1) / 1e9);
    CHECK(u->max_rss == std::int64_t(i) * 4096 + 1);
  }
  std::size_t missing = 0, wrong = 0;
  for (std::size_t i = 0; i < kN + 10; ++i) {
    bool want = i < kN && i % 3 == 0;
    if (t.get(i).has_value() != want) ++(want ? missing : wrong);
  }
  CHECK(missing == 0);
  CHECK(wrong == 0);

  // A retried task's later result replaces the first; a corrupt negative peak reads as 0.
  t.set(3, 7, 8, -5);
  auto u = t.get(3);
  REQUIRE(u.has_value());
  CHECK(u->user == 7e-9);
  CHECK(u->system == 8e-9);
  CHECK(u->max_rss == 0);
}

// Entries of tasks that left the hub go back with their block; the others are untouched.
TEST_CASE("usage entries are given back block by block", "[capture][keep]") {
  UsageTable t;
  constexpr std::size_t kB = std::size_t(1) << 18;
  for (std::size_t i = 0; i < 2 * kB + 10; i += 2) t.set(i, 1, 2, 3);
  for (std::size_t i = 0; i < kB; ++i) t.release(i);  // recorded or not
  CHECK_FALSE(t.get(0).has_value());
  CHECK_FALSE(t.get(kB - 2).has_value());
  REQUIRE(t.get(kB).has_value());
  CHECK(t.get(kB)->max_rss == 3);
  // A block whose every index was released before any entry reached it is never allocated, and
  // entries past it are kept as usual.
  for (std::size_t i = 3 * kB; i < 4 * kB; ++i) t.release(i);
  t.set(4 * kB + 1, 5, 6, 7);
  CHECK_FALSE(t.get(3 * kB + 1).has_value());
  REQUIRE(t.get(4 * kB + 1).has_value());
  CHECK(t.get(4 * kB + 1)->user == 5e-9);
  CHECK(t.get(2 * kB + 8).has_value());
}
