// Items that throw inside a map: the others still run, get() raises a CompositeError that names
// every failing item by index, and the successful values stay retrievable.
#include <algorithm>
#include <numeric>
#include <optional>
#include <sstream>
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

// ipyparallel's CompositeError printing: tb_limit failures shown, the rest counted.
TEST_CASE("CompositeError renders and prints at most tb_limit failures", "[map][errors]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    // Items 1, 4, 7, 10, 13, 16 of 0..17 raise: six failures.
    auto amr = lb.map_async(fail_some, iota_vec(18), {.chunksize = 1});
    REQUIRE(amr.wait(kBound));
    std::optional<mpiply::CompositeError> caught;
    try {
      (void)amr.get();
    } catch (const mpiply::CompositeError& e) {
      caught = e;
    }
    REQUIRE(caught);
    mpiply::CompositeError& e = *caught;
    REQUIRE(e.errors().size() == 6);
    CHECK(e.total() == 18);
    CHECK(e.tb_limit() == mpiply::CompositeError::kDefaultTbLimit);
    const std::string what = e.what();
    CHECK(what.find("6 of 18 items raised") == 0);
    CHECK(what.find("bad item 10") != std::string::npos);     // the 4th failure is shown
    CHECK(what.find("bad item 13") == std::string::npos);     // the 5th is not
    CHECK(what.find("... 2 more exceptions ...") != std::string::npos);

    // Two lines per failure (header, "ename: evalue"), then the count of the rest.
    auto lines = e.render_traceback();
    REQUIRE(lines.size() == 4 * 2 + 1);
    const auto& first = e.errors()[0].error;
    CHECK(lines[0] == "[" + std::to_string(first.engine_id()) + ":fail_some] item 1, msg id " +
                          std::to_string(first.msg_id()) + ", host " + first.hostname());
    CHECK(lines[1].find("runtime_error") != std::string::npos);
    CHECK(lines[1].find(": bad item 1") != std::string::npos);
    CHECK(lines[7].find(": bad item 10") != std::string::npos);
    CHECK(lines[8] == "... 2 more exceptions ...");

    // print_traceback writes the same lines.
    std::ostringstream out;
    e.print_traceback(out);
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    CHECK(out.str() == joined);

    // A larger limit shows all six and no count; 0 shows only the count.
    e.set_tb_limit(10);
    lines = e.render_traceback();
    CHECK(lines.size() == 12);
    CHECK(lines.back().find(": bad item 16") != std::string::npos);
    e.set_tb_limit(0);
    CHECK(e.render_traceback() == std::vector<std::string>{"... 6 more exceptions ..."});

    // One failure by its position, whatever the limit; past the end is a UsageError.
    lines = e.render_traceback(5);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("item 16") != std::string::npos);
    std::ostringstream one;
    e.print_traceback(2, one);
    CHECK(one.str().find(": bad item 7\n") != std::string::npos);
    CHECK_THROWS_AS(e.render_traceback(6), mpiply::UsageError);

    // The class-wide default applies to errors made after it is set.
    mpiply::CompositeError::set_default_tb_limit(1);
    try {
      (void)lb.map(fail_some, iota_vec(6));
      FAIL("expected a CompositeError");
    } catch (const mpiply::CompositeError& e2) {
      CHECK(e2.tb_limit() == 1);
      CHECK(std::string(e2.what()).find("... 1 more exception ...") != std::string::npos);
      CHECK(e2.render_traceback().size() == 3);
    }
    mpiply::CompositeError::set_default_tb_limit(mpiply::CompositeError::kDefaultTbLimit);
    return 0;
  });
  REQUIRE(rc == 0);
}
