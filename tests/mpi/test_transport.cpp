// Messages larger than the receivers' posted buffers (64 KiB for tasks, 16 KiB for results) go
// as an envelope followed by the message on its own tag. These tests push both directions over
// that path, interleaved with small messages on the same engine, where an ordering mistake would
// hand a result to the wrong task.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

// Returns n doubles starting at `first` (n large: the result needs an envelope).
std::vector<double> ramp(double first, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}
// Sums its argument (large: the task needs an envelope) and tags it with `tag`.
std::pair<int, double> tagged_sum(int tag, const std::vector<double>& xs) {
  return {tag, std::accumulate(xs.begin(), xs.end(), 0.0)};
}

}  // namespace

MPIPLY_REGISTER(ramp);
MPIPLY_REGISTER(tagged_sum);

TEST_CASE("large arguments and results round-trip through the envelope path", "[transport]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    // 200k doubles = 1.6 MB result, far over the 16 KiB result buffer.
    auto big = lbv.apply_sync(ramp, 1.0, 200000);
    REQUIRE(big.size() == 200000u);
    CHECK(big.front() == 1.0);
    CHECK(big.back() == 200000.0);
    // A 1.6 MB argument, over the 64 KiB task buffer.
    auto [tag, sum] = lbv.apply_sync(tagged_sum, 7, big);
    CHECK(tag == 7);
    CHECK(sum == 200000.0 * 200001.0 / 2.0);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("small and large messages interleaved on one engine keep their order", "[transport]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto e = c[0];
    // Several outstanding at once (hwm >= 2), alternating sizes both ways: each result must come
    // back to its own task.
    std::vector<mpiply::AsyncResult<std::vector<double>>> results;
    std::vector<int> sizes;
    for (int i = 0; i < 24; ++i) {
      int n = (i % 3 == 0) ? 50000 : (i % 3 == 1 ? 3 : 2100);  // 400 KB, 24 B, 16.8 KB
      sizes.push_back(n);
      results.push_back(e.apply_async(ramp, double(i), n));
    }
    for (int i = 0; i < 24; ++i) {
      auto v = results[static_cast<std::size_t>(i)].get();
      REQUIRE(v.size() == static_cast<std::size_t>(sizes[static_cast<std::size_t>(i)]));
      CHECK(v.front() == double(i));
    }
    std::vector<mpiply::AsyncResult<std::pair<int, double>>> sums;
    for (int i = 0; i < 16; ++i) sums.push_back(e.apply_async(tagged_sum, i, ramp(0.0, i % 2 ? 20000 : 2)));
    for (int i = 0; i < 16; ++i) CHECK(sums[static_cast<std::size_t>(i)].get().first == i);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a map whose chunks are large in both directions", "[transport]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    std::vector<double> firsts(40);
    std::iota(firsts.begin(), firsts.end(), 0.0);
    std::vector<int> lengths(40, 3000);  // 24 KB per item: results of a chunk of 4 are ~96 KB
    for (auto view : {0, 1}) {
      auto amr = view == 0 ? c.load_balanced_view().map_async(ramp, firsts, lengths, {.chunksize = 4})
                           : c.direct_view().map_async(ramp, firsts, lengths, {.chunksize = 4});
      std::size_t i = 0;
      for (const auto& v : amr) {
        REQUIRE(v.size() == 3000u);
        CHECK(v.front() == double(i));
        ++i;
      }
      CHECK(i == 40u);
    }
  });
  REQUIRE(rc == 0);
}
