// Soak: a map over 31 engines (32 ranks, oversubscribed on loopback). Every item's value must be
// right and every engine id the task reports must be in range and agree with the task's
// metadata; a chunksize-1 load-balanced map and a DirectView map must each use every engine
// (the first dispatch round gives each idle engine a task, and a DirectView map gives each
// engine a block).
#include <catch2/catch.hpp>

#include <set>
#include <utility>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

std::pair<long, int> soak_where(long x) { return {x * x + 1, mpiply::this_engine().id()}; }

constexpr long kItems = 20'000;

}  // namespace

MPIPLY_REGISTER(soak_where);

TEST_CASE("a map over every engine of a wide job: values right, engine ids in range",
          "[soak][ranks]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    const int engines = static_cast<int>(c.ids().size());
    CHECK(engines == mpiply_test::world_size() - 1);
    std::vector<long> xs(kItems);
    for (long i = 0; i < kItems; ++i) xs[static_cast<std::size_t>(i)] = i - kItems / 2;
    auto check = [&](const std::vector<std::pair<long, int>>& got, const char* what) {
      INFO(what);
      REQUIRE(got.size() == xs.size());
      std::size_t wrong_value = 0, bad_engine = 0;
      std::set<int> used;
      for (std::size_t i = 0; i < got.size(); ++i) {
        wrong_value += got[i].first != xs[i] * xs[i] + 1;
        bad_engine += got[i].second < 0 || got[i].second >= engines;
        used.insert(got[i].second);
      }
      CHECK(wrong_value == 0);
      CHECK(bad_engine == 0);
      CHECK(static_cast<int>(used.size()) == engines);
    };
    auto lb = c.load_balanced_view();
    auto one = lb.map_async(soak_where, xs, {.chunksize = 1});
    auto got = one.get(mpiply::Seconds(300));
    check(got, "load-balanced, chunksize 1");
    auto meta = one.metadata();
    REQUIRE(meta.size() == xs.size());
    std::size_t disagree = 0;
    for (std::size_t i = 0; i < meta.size(); ++i) disagree += meta[i].engine_id != got[i].second;
    CHECK(disagree == 0);
    check(lb.map_async(soak_where, xs, {.chunksize = 7}).get(mpiply::Seconds(300)),
          "load-balanced, chunksize 7");
    check(c.direct_view().map_async(soak_where, xs).get(mpiply::Seconds(300)), "direct view");
  });
  REQUIRE(rc == 0);
}
