// Rank 0's submission table (src/hub/submission_table.hpp): finding the submission of a msg id.
// A loop of applies asks for its newest submission; the hub's cap and a purge walk the oldest
// ones in msg id order, far behind the newest, once per task they release. Both must find it
// without searching the table: a search per released task made a capped loop of applies slower
// than an uncapped one. Logic only; no messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/outcome.hpp>

#include "hub/submission_table.hpp"

using mpiply::detail::FixedSource;
using mpiply::detail::ResultState;
using mpiply::detail::ResultStateBase;
using mpiply::detail::SubmissionTable;

namespace {

// Adds a submission of ntasks tasks from msg id first, as ClientCore::submit does.
void add(SubmissionTable& t, std::uint64_t first, std::uint32_t ntasks) {
  auto src = std::make_shared<FixedSource>();
  src->ntasks = ntasks;
  src->fn_id = 7;
  std::shared_ptr<ResultStateBase> st =
      std::make_shared<ResultState<mpiply::None>>(nullptr, "f", ntasks);
  t.add(src, std::move(st), first, 0, false);
}

}  // namespace

TEST_CASE("a walk over the oldest submissions in msg id order searches nothing") {
  SubmissionTable t;
  // More than one block of submissions (BlockTable<Submission>::kBlock), one or three tasks
  // each, so that a walk crosses blocks and submissions of several tasks.
  const std::uint64_t n = 300000;
  std::uint64_t id = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uint32_t ntasks = k % 5 == 0 ? 3 : 1;
    add(t, id, ntasks);
    id += ntasks;
  }
  const std::uint64_t end = id;
  REQUIRE(t.held() == n);
  std::size_t before = t.searches();
  // As a purge releases them: each task's submission, then the task released.
  for (std::uint64_t m = 0; m < end; ++m) {
    const auto& s = t.submission(m);
    REQUIRE(s.first <= m);
    REQUIRE(m < s.first + s.ntasks);
    t.release_task(m);
  }
  CHECK(t.held() == 0);
  CHECK(t.searches() - before <= 2);
}

TEST_CASE("a capped loop of applies: the newest and the oldest asked for in turn, no search") {
  SubmissionTable t;
  // The cap keeps this many; each new apply's result asks for the newest submission, and the
  // cap then releases the oldest task (its submission asked for twice, as HubCap does).
  const std::uint64_t keep = 100000, loops = 300000;
  for (std::uint64_t k = 0; k < keep; ++k) add(t, k, 1);
  std::size_t before = t.searches();
  for (std::uint64_t k = keep; k < keep + loops; ++k) {
    add(t, k, 1);
    REQUIRE(t.submission(k).first == k);
    std::uint64_t old = k - keep;
    REQUIRE(t.submission(old).first == old);
    REQUIRE(t.submission(old).ntasks == 1);
    t.release_task(old);
  }
  CHECK(t.held() == keep);
  CHECK(t.searches() - before <= 2);
}

TEST_CASE("the newest submission, asked for after each add, is found without a search") {
  SubmissionTable t;
  for (std::uint64_t k = 0; k < 1000; ++k) {
    add(t, k, 1);
    CHECK(t.submission(k).first == k);
  }
  CHECK(t.searches() == 0);
}

TEST_CASE("a msg id anywhere in the table still finds its submission") {
  SubmissionTable t;
  std::uint64_t id = 0;
  for (std::uint64_t k = 0; k < 5000; ++k) {
    add(t, id, 2);
    id += 2;
  }
  for (std::uint64_t m : {std::uint64_t(9999), std::uint64_t(1), std::uint64_t(5001),
                          std::uint64_t(0), std::uint64_t(4000), std::uint64_t(4001)}) {
    const auto& s = t.submission(m);
    CHECK(s.first == m - m % 2);
    CHECK(s.ntasks == 2);
  }
}
