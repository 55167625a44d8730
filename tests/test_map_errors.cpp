// Items that throw inside a map: the others still run, get() raises a CompositeError that names
// every failing item by index, and the successful values stay retrievable.
#include <algorithm>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

char arg0[] = "test_map_errors";
char* argv[] = {arg0, nullptr};
constexpr mpiply::Seconds kBound{60};

// Items 1, 4, 7, ... raise; the message carries the item so the test can match it.
int fail_some(int i) {
  if (i % 3 == 1) throw std::runtime_error("bad item " + std::to_string(i));
  return 10 * i;
}

}  // namespace

MPIPLY_REGISTER(fail_some);

namespace {

using mpiply_test::iota_vec;

// The shared checks for one finished map of fail_some over 0..n-1.
void check_failed_map(const mpiply::AsyncMapResult<int>& amr, int n) {
  std::vector<std::size_t> want_bad;
  for (int i = 0; i < n; ++i)
    if (i % 3 == 1) want_bad.push_back(std::size_t(i));

  REQUIRE(amr.wait(kBound));
  CHECK_FALSE(amr.successful());
  CHECK(amr.progress() == std::size_t(n));  // failed items count as finished

  bool threw = false;
  try {
    (void)amr.get();
  } catch (const mpiply::CompositeError& e) {
    threw = true;
    std::vector<std::size_t> got_bad;
    for (const auto& item : e.errors()) {
      got_bad.push_back(item.index);
      // Each failure is the RemoteError of its own item.
      CHECK(item.error.evalue() == "bad item " + std::to_string(item.index));
      CHECK(item.error.ename().find("runtime_error") != std::string::npos);
      CHECK(item.error.function() == "fail_some");
    }
    CHECK(got_bad == want_bad);
    CHECK_THROWS_AS(e.raise_exception(0), mpiply::RemoteError);
  }
  CHECK(threw);

  // Successful values stay available, by index and all together.
  auto values = amr.values_or_empty(kBound);
  REQUIRE(values.size() == std::size_t(n));
  for (int i = 0; i < n; ++i) {
    INFO("item " << i);
    if (i % 3 == 1) {
      CHECK_FALSE(values[std::size_t(i)].has_value());
      CHECK_THROWS_AS(amr.value(std::size_t(i)), mpiply::RemoteError);
    } else {
      // Computed even though earlier items (possibly in the same chunk) raised.
      REQUIRE(values[std::size_t(i)].has_value());
      CHECK(*values[std::size_t(i)] == 10 * i);
      CHECK(amr.value(std::size_t(i)) == 10 * i);
    }
  }

  // Tasks whose chunk held a failing item report it in their metadata.
  bool any_error_status = false;
  for (const auto& m : amr.metadata())
    if (m.status == mpiply::TaskStatus::error) {
      any_error_status = true;
      CHECK(m.error.find("bad item") != std::string::npos);
    }
  CHECK(any_error_status == !want_bad.empty());
}

}  // namespace

TEST_CASE("failing items give a CompositeError with their indices", "[map][errors]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    for (int n : {2, 10}) {
      for (long k : {1L, 3L, 4L}) {
        for (bool ordered : {true, false}) {
          INFO("n=" << n << " chunksize=" << k << " ordered=" << ordered);
          check_failed_map(lb.map_async(fail_some, iota_vec(n), {.chunksize = k, .ordered = ordered}),
                           n);
          check_failed_map(dv.map_async(fail_some, iota_vec(n), {.chunksize = k, .ordered = ordered}),
                           n);
        }
      }
    }
    // map_sync and map raise the same CompositeError.
    CHECK_THROWS_AS(lb.map_sync(fail_some, iota_vec(5)), mpiply::CompositeError);
    CHECK_THROWS_AS(dv.map(fail_some, iota_vec(5), {.chunksize = 2}), mpiply::CompositeError);
    // With one failing item a map still raises CompositeError (as ipyparallel's map does).
    CHECK_THROWS_AS(lb.map(fail_some, std::vector<int>{1}), mpiply::CompositeError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("iteration yields good items and raises at a failing one", "[map][errors]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto amr = lb.map_async(fail_some, iota_vec(6), {.chunksize = 2});
    auto it = amr.begin();
    CHECK(*it == 0);
    ++it;
    CHECK_THROWS_AS(*it, mpiply::RemoteError);  // item 1 raised
    ++it;
    CHECK(*it == 20);  // later items are still there
    std::size_t seen = 0, failed = 0;
    for (auto j = amr.begin(); j != amr.end(); ++j) {
      try {
        int v = *j;  // outside CHECK, which would swallow the RemoteError itself
        CHECK(v == 10 * int(j.index()));
        ++seen;
      } catch (const mpiply::RemoteError& e) {
        CHECK(j.index() % 3 == 1);
        CHECK(e.evalue() == "bad item " + std::to_string(j.index()));
        ++failed;
      }
    }
    CHECK(seen == 4);
    CHECK(failed == 2);
    // Nothing failing: successful() and get() are clean.
    auto ok = lb.map_async(fail_some, std::vector<int>{0, 2, 3, 5}, {.chunksize = 3});
    CHECK(ok.get(kBound) == std::vector<int>{0, 20, 30, 50});
    CHECK(ok.successful());
    return 0;
  });
  REQUIRE(rc == 0);
}
